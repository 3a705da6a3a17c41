*** Settings ***
Documentation       A producer for the queue tests and benchmarks: puts ${COUNT} work items, each with one small
...                 file whose content names its number (so a consumer can check that the file travelled with
...                 its item). Run with RPA_WORKITEMS_ADAPTER=InvoiceLibrary.workqueue.PostgresAdapter and
...                 INVOICEBOT_QUEUE_OUTPUT=<queue>; the real producer is robot_tasks/producer.robot.
Library             OperatingSystem
Library             RPA.Robocorp.WorkItems


*** Variables ***
${COUNT}            200
${FILES_DIR}        ${OUTPUT_DIR}${/}producer-files


*** Tasks ***
Put Work Items
    Create Directory    ${FILES_DIR}
    FOR    ${n}    IN RANGE    ${COUNT}
        ${path} =    Set Variable    ${FILES_DIR}${/}item-${n}.txt
        Create File    ${path}    item ${n}
        &{payload} =    Create Dictionary    n=${n}    item_key=item-${n}    file_name=item-${n}.txt
        Create Output Work Item    variables=${payload}    files=${path}    save=${True}
    END
