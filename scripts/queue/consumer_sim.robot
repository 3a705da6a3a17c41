*** Settings ***
Documentation       A consumer for the queue tests: takes input work items until the queue is drained, and for
...                 each one records what it took (``took N PID``), checks that the item's file came with it,
...                 simulates the work with a short sleep, creates an output item, releases the input DONE and
...                 records it (``done N PID``) in ``${RECORDS}``. Run with
...                 RPA_WORKITEMS_ADAPTER=InvoiceLibrary.workqueue.PostgresAdapter and INVOICEBOT_QUEUE_INPUT.
Library             OperatingSystem
Library             RPA.Robocorp.WorkItems    autoload=${False}


*** Variables ***
${RECORDS}          ${OUTPUT_DIR}${/}records.txt
${WORK_SECONDS}     0.3
${WORK_DIR}         ${OUTPUT_DIR}${/}consumer-files


*** Tasks ***
Take Work Items
    Create Directory    ${WORK_DIR}
    For Each Input Work Item    Simulate Work    return_results=${False}


*** Keywords ***
Simulate Work
    ${payload} =    Get Work Item Variables
    ${pid} =    Evaluate    os.getpid()    modules=os
    Append To File    ${RECORDS}    took ${payload}[n] ${pid}\n
    ${path} =    Get Work Item File    ${payload}[file_name]    ${WORK_DIR}${/}${payload}[file_name]
    ${text} =    Get File    ${path}
    Should Be Equal    ${text}    item ${payload}[n]    the file did not travel with its item
    Sleep    ${WORK_SECONDS}
    &{out} =    Create Dictionary    n=${payload}[n]    by=${pid}
    Create Output Work Item    variables=${out}    save=${True}
    Release Input Work Item    DONE
    Append To File    ${RECORDS}    done ${payload}[n] ${pid}\n
