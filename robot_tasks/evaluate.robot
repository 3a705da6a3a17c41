*** Settings ***
Documentation       Evaluate: extracts a labelled document set and scores it (per-field precision, recall, F1).
...                 Give ``--variable GROUND_TRUTH:dir --variable DOCUMENTS:dir``; ``MIN_F1`` makes it a gate.
Resource            resources/common.resource


*** Variables ***
# Required: a folder of <name>.json ground truth (canonical keys) and a folder of the documents <name>.pdf.
${GROUND_TRUTH}     ${EMPTY}
${DOCUMENTS}        ${EMPTY}
${PREDICTIONS}      ${OUTPUT_DIR}${/}evaluation${/}predictions
${MIN_F1}           ${EMPTY}


*** Tasks ***
Evaluate The Invoice Model
    ${score} =    Evaluate Invoice Model    ${GROUND_TRUTH}    documents=${DOCUMENTS}
    ...    predictions=${PREDICTIONS}    min_f1=${MIN_F1}
    Log    micro F1 ${score}[micro][f1] on ${score}[documents] document(s)
