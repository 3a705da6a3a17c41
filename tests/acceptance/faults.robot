*** Settings ***
Documentation       Faults under a running robot, each injected at a point of real progress, then the robot run
...                 again over the same state and queue: the mail server stopped during intake, the output disk
...                 full, Tryton stopped during keying, Chromium killed in the middle of keying. Each ends with
...                 every mail and work item accounted for (done, review, or retried after an APPLICATION failure),
...                 no invoice keyed twice in Tryton, no mail deleted.
...
...                 Run: SE_OFFLINE=true .venv/bin/python -m robot --pythonpath keywords --outputdir output/acceptance tests/acceptance/faults.robot
Library             Collections
Library             OperatingSystem
Library             Process
Library             resources/E2ELibrary.py
Library             resources/Faults.py
Library             ${CURDIR}/../../scripts/tryton/TrytonCheck.py
Library             resources/KillLoop.py    ${WORK}${/}imap    ${WORK}${/}imap${/}inbox    AS    Imap
Library             resources/KillLoop.py    ${WORK}${/}disk    ${WORK}${/}disk${/}inbox    AS    Disk
Resource            resources/dovecot.resource

Test Tags           acceptance    faults


*** Variables ***
${ROOT}             ${{str(pathlib.Path(r"${CURDIR}").parent.parent.resolve())}}
${WORK}             ${OUTPUT_DIR}${/}faults
${IMAP_PORT}        10997
${IMAP_USER}        robot@invoicebot.test
${MAILS}            8
${SEED}             31
${INVOICES}         5
${KEYING_INVOICES}    8
${KEYING_KILLS}      6


*** Test Cases ***
The Mail Server Stopped During Intake Loses No Mail
    [Documentation]    Dovecot crashes (every process SIGKILLed) after the producer took its first attachments; the run fails, the mail stays
    ...    on the server. With the server back, the next run takes the rest: every mail in Processed or Review once,
    ...    INBOX empty, every document queued once.
    ${dir} =    Set Variable    ${WORK}${/}imap
    Remove Directory    ${dir}    recursive=${True}
    ${manifest}    ${login} =    Start Dovecot With A Vault Secret    ${dir}    ${IMAP_PORT}    ${IMAP_USER}
    ...    ${MAILS}    ${SEED}
    Imap.Use Mailbox    ${login}[vault]    ${login}[cafile]
    ${faulty} =    Imap.Run With Fault    producer    3    bash    scripts/dovecot.sh    crash
    ...    env=${{ {"INVOICEBOT_DOVECOT_DIR": $login["state"], "INVOICEBOT_IMAP_PORT": "${IMAP_PORT}"} }}
    Should Not Be Equal As Integers    ${faulty}[rc]    0    the producer passed with its mail server gone
    Run Dovecot    ${IMAP_PORT}    start
    ${again} =    Imap.Run    producer
    Should Be Equal As Integers    ${again}[rc]    0    the rerun failed; see ${again}[out]
    ${counts} =    Run Dovecot    ${IMAP_PORT}    count    ${IMAP_USER}
    Should Match Regexp    ${counts}    (?m)^INBOX 0$
    ${handled} =    Evaluate    sum(int(n) for n in re.findall(r"(?m)^(?:Processed|Review) (\\d+)$", $counts))    modules=re
    Should Be Equal As Integers    ${handled}    ${MAILS}    mails lost or doubled on the server: ${counts}
    Imap.Every Document Should Be Queued Once    ${manifest}
    [Teardown]    Run Dovecot    ${IMAP_PORT}    stop

A Full Output Disk Loses No Attachment
    [Documentation]    The queue, attachments and run report on a disk with room for a few documents; the producer
    ...    fails when it is full. After the disk grows, the next run queues the rest: every document once.
    ${dir} =    Set Variable    ${WORK}${/}disk
    Remove Directory    ${dir}    recursive=${True}
    ${manifest} =    Generate Inbox    ${dir}${/}inbox    ${MAILS}    ${SEED}
    Mount Small Disk    ${dir}${/}small    48
    Disk.Put Outputs Under    ${dir}${/}small
    ${full} =    Disk.Run    producer
    Should Not Be Equal As Integers    ${full}[rc]    0    the producer passed although its disk was full
    ${log} =    Get File    ${full}[out]${/}producer.xml
    Should Contain Any    ${log}    No space left on device    check free space
    Grow Disk    ${dir}${/}small    65536
    ${again} =    Disk.Run    producer
    Should Be Equal As Integers    ${again}[rc]    0    the rerun failed; see ${again}[out]
    Disk.Every Mail Should Be Accounted For    ${manifest}
    Disk.Every Document Should Be Queued Once    ${manifest}
    [Teardown]    Keep And Unmount    ${dir}

Tryton Stopped During Keying Keys Every Invoice Once
    [Documentation]    Tryton stops after the keying robot saved two invoices; the items after fail as APPLICATION
    ...    exceptions. With Tryton back, the rerun retries them: each invoice in Tryton once, each item done once.
    [Setup]    Start Tryton
    ${run} =    Evaluate    "T" + __import__("uuid").uuid4().hex[:8].upper()
    ${dir} =    Set Variable    ${WORK}${/}tryton-${run}
    ${invoices} =    Make Test Invoices    ${INVOICES}    ${run}
    ${items} =    Write Keying Items    ${invoices}    ${dir}${/}items.json
    ${worker} =    Start Keying Worker    ${items}    ${dir}${/}first
    Wait Until Done    ${items}    2    ${worker}
    ${result} =    Run Process    bash    scripts/tryton/stop.sh    cwd=${ROOT}
    ${rc} =    Wait For Worker    ${worker}
    ${journal} =    Journal Of    ${items}
    ${failed} =    Evaluate    [r for r in $journal if r["state"] == "FAILED"]
    Should Not Be Empty    ${failed}    no item failed while Tryton was down: the fault came too late
    Start Tryton
    ${again} =    Start Keying Worker    ${items}    ${dir}${/}second
    ${rc} =    Wait For Worker    ${again}
    Should Be Equal As Integers    ${rc}    0    the rerun failed; see ${dir}${/}second${/}log.html
    Every Item Should Be Done Once    ${items}
    ${stored} =    Supplier Invoices    reference_prefix=${run}-
    Tryton Should Hold Each Once    ${stored}    ${invoices}

Chromium Killed While Keying Keys Every Invoice Once
    [Documentation]    The browser dies (SIGKILL) after the first invoice was saved, in the middle of the next; the
    ...    robot's items fail as APPLICATION exceptions. The rerun keys the rest: each invoice in Tryton once.
    [Setup]    Start Tryton
    ${run} =    Evaluate    "B" + __import__("uuid").uuid4().hex[:8].upper()
    ${dir} =    Set Variable    ${WORK}${/}browser-${run}
    ${invoices} =    Make Test Invoices    ${INVOICES}    ${run}
    ${items} =    Write Keying Items    ${invoices}    ${dir}${/}items.json
    ${worker} =    Start Keying Worker    ${items}    ${dir}${/}first
    Wait Until Done    ${items}    1    ${worker}
    Sleep    1.5 s    # into the next invoice's form
    ${killed} =    Kill Browsers Under    ${dir}${/}first
    Should Not Be Empty    ${killed}    no browser of the robot was found to kill
    ${rc} =    Wait For Worker    ${worker}
    ${again} =    Start Keying Worker    ${items}    ${dir}${/}second
    ${rc} =    Wait For Worker    ${again}
    Should Be Equal As Integers    ${rc}    0    the rerun failed; see ${dir}${/}second${/}log.html
    Every Item Should Be Done Once    ${items}
    ${stored} =    Supplier Invoices    reference_prefix=${run}-
    Tryton Should Hold Each Once    ${stored}    ${invoices}


The Keying Robot Killed At Random Points Keys Every Invoice Once
    [Documentation]    The keying robot and its browser SIGKILLed at seeded random moments after an invoice was done
    ...    (in the next form, its save, read-back or release), run again each time: each invoice in Tryton once.
    [Setup]    Start Tryton
    ${run} =    Evaluate    "R" + __import__("uuid").uuid4().hex[:8].upper()
    ${dir} =    Set Variable    ${WORK}${/}kill-keying-${run}
    ${invoices} =    Make Test Invoices    ${KEYING_INVOICES}    ${run}
    ${items} =    Write Keying Items    ${invoices}    ${dir}${/}items.json
    ${runs} =    Keying Kill Loop    ${items}    ${dir}    ${KEYING_KILLS}    ${SEED}
    ${killed} =    Evaluate    sum(1 for r in $runs if r["killed"])
    Should Be True    ${killed} >= 3    only ${killed} keying runs were killed mid-work
    Every Item Should Be Done Once    ${items}
    ${stored} =    Supplier Invoices    reference_prefix=${run}-
    Tryton Should Hold Each Once    ${stored}    ${invoices}

*** Keywords ***
Start Tryton
    ${result} =    Run Process    bash    ${ROOT}${/}scripts${/}tryton${/}start.sh    stderr=STDOUT
    Should Be Equal As Integers    ${result.rc}    0    scripts/tryton/start.sh failed: ${result.stdout}

Keep And Unmount
    [Arguments]    ${dir}
    Run Keyword And Ignore Error    Copy Off Disk    ${dir}${/}small    ${dir}${/}small-kept
    Unmount Disk    ${dir}${/}small
