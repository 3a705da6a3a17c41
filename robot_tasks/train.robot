*** Settings ***
Documentation       Train: fine-tunes the invoice model from the project's synthetic corpus (and the reviewed
...                 corrections) and saves it with its model card.
Resource            resources/common.resource


*** Variables ***
${MODEL_CONFIG}     ${EMPTY}
${MODEL_OUT}        ${EMPTY}


*** Tasks ***
Train The Invoice Model
    ${trained} =    Train Invoice Model    config=${MODEL_CONFIG}    out_dir=${MODEL_OUT}
    Log    ${trained}
