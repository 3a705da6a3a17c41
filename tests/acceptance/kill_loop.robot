*** Settings ***
Documentation       The real producer and consumer robots SIGKILLed at seeded random points of their work (at least
...                 20 kill points in all), each time run again over the same inbox, state and local queue
...                 (DurableFileAdapter), then run to the end. Afterwards every mail is in processed/ or review/
...                 (none left, none deleted), every document of the inbox is queued exactly once, and every work
...                 item has exactly one final release and one outcome in the run report; no done invoice is
...                 handed on twice. Keying into Tryton under a kill is tests/acceptance/crash_recovery.robot.
...
...                 Run: .venv/bin/python -m robot --pythonpath keywords --outputdir output/acceptance tests/acceptance/kill_loop.robot
Library             OperatingSystem
Library             resources/E2ELibrary.py
Library             resources/KillLoop.py    ${WORK}    ${WORK}${/}inbox    WITH NAME    Robots

Test Tags           acceptance    crash


*** Variables ***
${WORK}             ${OUTPUT_DIR}${/}kill-loop
${MAILS}            30
${SEED}             23
${PRODUCER_KILLS}    10
${CONSUMER_KILLS}    10


*** Test Cases ***
Robots Killed At 20 Random Points Lose Nothing And Do Nothing Twice
    Remove Directory    ${WORK}    recursive=${True}
    ${manifest} =    Generate Inbox    ${WORK}${/}inbox    ${MAILS}    ${SEED}
    Robots.Kill Loop    producer    ${PRODUCER_KILLS}    ${SEED}    span=3
    Robots.Kill Loop    consumer    ${CONSUMER_KILLS}    ${SEED}    span=3
    ${producer_kills} =    Robots.Killed Runs    producer
    ${consumer_kills} =    Robots.Killed Runs    consumer
    Log    ${producer_kills} producer and ${consumer_kills} consumer runs were killed mid-work
    Should Be True    ${producer_kills} + ${consumer_kills} >= 20    fewer than 20 runs were killed mid-work
    Robots.Every Mail Should Be Accounted For    ${manifest}
    ${items} =    Robots.Every Document Should Be Queued Once    ${manifest}
    Robots.Every Item Should End Once    ${items}

A Corrupt Work-Items File On Restart Stops The Consumer And Is Left As It Is
    [Documentation]    The consumer must not take a damaged queue for an empty one (and pass): it fails, names the
    ...                file and leaves it untouched for a person to restore.
    ${corrupt} =    Set Variable    ${WORK}${/}corrupt${/}work-items.json
    Create File    ${corrupt}    [{"payload": {"item_key": "att-1", "file_name": "a.pdf"}, "files": {"a.pdf": "a.p
    ${result} =    Robots.Run Consumer On    ${corrupt}
    Should Not Be Equal As Integers    ${result}[rc]    0    the consumer passed over a damaged queue
    ${log} =    Get File    ${result}[out]${/}consumer.stdout.txt
    Should Contain    ${log}    input work-items file ${corrupt} is unreadable
    ${after} =    Get File    ${corrupt}
    Should Be Equal    ${after}    [{"payload": {"item_key": "att-1", "file_name": "a.pdf"}, "files": {"a.pdf": "a.p
