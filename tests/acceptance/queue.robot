*** Settings ***
Documentation       Work items on a real PostgreSQL queue shared by many consumers: a producer puts ${COUNT} items,
...                 ${CONSUMERS} consumer robots (separate Robot processes with the PostgresAdapter) share the
...                 queue, one of them is SIGKILLed while it holds an item, and at the end every item was completed
...                 exactly once: the killed consumer's in-flight item came back after its lease expired and
...                 another consumer finished it; none lost, none done twice, one output per input.
...                 The server is the project's own (scripts/postgres.sh), started here and stopped afterwards
...                 when this suite started it.
...                 Run: PYTHONPATH=keywords .venv/bin/python -m robot -d output/queue tests/acceptance/queue.robot
Library             Collections
Library             OperatingSystem
Library             Process
Library             resources/QueueCheck.py
Suite Setup         Start The Queue Server
Suite Teardown      Stop The Queue Server
Test Tags           acceptance    queue


*** Variables ***
${ROOT}             ${{os.path.normpath(r'${CURDIR}/../..')}}
${COUNT}            200
${CONSUMERS}        4
${LEASE}            5
${KILL_AFTER}       6
${PRODUCER}         ${ROOT}/scripts/queue/producer_sim.robot
${CONSUMER}         ${ROOT}/scripts/queue/consumer_sim.robot
${ADAPTER}          InvoiceLibrary.workqueue.PostgresAdapter
# set by the suite setup; True until then, so that a setup that failed early stops nothing
${SERVER_WAS_RUNNING}    ${True}


*** Test Cases ***
Four Consumers Share One Queue And Complete Each Item Exactly Once Though One Is Killed
    ${queue} =    Evaluate    "acceptance-" + __import__("uuid").uuid4().hex[:8]
    ${dir} =    Set Variable    ${OUTPUT_DIR}${/}${queue}
    Purge Queues    ${queue}    ${queue}.done
    Put Work Items    ${queue}    ${dir}
    Every Item Should Have Its File    ${queue}    ${COUNT}
    @{handles} =    Create List
    @{records} =    Create List
    FOR    ${i}    IN RANGE    ${CONSUMERS}
        ${handle} =    Start Consumer    ${queue}    ${dir}    ${i}
        Append To List    ${handles}    ${handle}
        Append To List    ${records}    ${dir}${/}records-${i}.txt
    END
    ${in_flight} =    Wait Until Consumer Holds An Item    ${records}[0]    ${KILL_AFTER}
    ${victim} =    Get Process Id    ${handles}[0]
    Send Signal To Process    SIGKILL    ${handles}[0]
    ${killed} =    Wait For Process    ${handles}[0]    timeout=30 s
    Should Be Equal As Integers    ${killed.rc}    -9
    Log    consumer 0 (pid ${victim}) killed while it held item ${in_flight}
    FOR    ${i}    IN RANGE    1    ${CONSUMERS}
        ${result} =    Wait For Process    ${handles}[${i}]    timeout=300 s    on_timeout=kill
        Should Be Equal As Integers    ${result.rc}    0    consumer ${i} failed: ${result.stderr}
    END
    Each Item Should Be Completed Exactly Once    ${queue}    ${COUNT}    ${records}    ${victim}    ${in_flight}
    ${counts} =    Queue Counts    ${queue}
    Should Be Equal As Integers    ${counts}[COMPLETED]    ${COUNT}
    Should Be Equal As Integers    ${counts}[DEAD]    0
    [Teardown]    Run Keywords    Terminate All Processes    kill=True    AND    Purge Queues    ${queue}    ${queue}.done


*** Keywords ***
Start The Queue Server
    ${before} =    Run Process    bash    ${ROOT}/scripts/postgres.sh    status
    Set Suite Variable    ${SERVER_WAS_RUNNING}    ${before.rc == 0}
    ${started} =    Run Process    bash    ${ROOT}/scripts/postgres.sh    start
    Should Be Equal As Integers    ${started.rc}    0    PostgreSQL did not start: ${started.stderr}

Stop The Queue Server
    IF    not ${SERVER_WAS_RUNNING}
        Run Process    bash    ${ROOT}/scripts/postgres.sh    stop
    END

Robot Process Environment
    [Arguments]    ${input}    ${output}
    &{env} =    Create Dictionary    RPA_WORKITEMS_ADAPTER=${ADAPTER}    INVOICEBOT_QUEUE_INPUT=${input}
    ...    INVOICEBOT_QUEUE_OUTPUT=${output}    INVOICEBOT_QUEUE_LEASE=${LEASE}    INVOICEBOT_QUEUE_WAIT=drain
    ...    PYTHONPATH=${ROOT}/keywords
    RETURN    ${env}

Put Work Items
    [Arguments]    ${queue}    ${dir}
    &{env} =    Robot Process Environment    ${EMPTY}    ${queue}
    ${result} =    Run Process    ${{sys.executable}}    -m    robot    --rpa    --outputdir    ${dir}/producer
    ...    --variable    COUNT:${COUNT}    --console    none    ${PRODUCER}    env=${env}    cwd=${ROOT}
    ...    timeout=300 s    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    0    the producer failed: ${result.stderr}

Start Consumer
    [Arguments]    ${queue}    ${dir}    ${i}
    &{env} =    Robot Process Environment    ${queue}    ${queue}.done
    ${handle} =    Start Process    ${{sys.executable}}    -m    robot    --rpa    --outputdir    ${dir}/consumer-${i}
    ...    --variable    RECORDS:${dir}${/}records-${i}.txt    --console    none    ${CONSUMER}
    ...    env=${env}    cwd=${ROOT}    stdout=${dir}/consumer-${i}.out    stderr=${dir}/consumer-${i}.err
    RETURN    ${handle}
