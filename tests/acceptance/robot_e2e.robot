*** Settings ***
Documentation       End to end: the producer and the consumer tasks, as robot.yaml runs them, over a generated
...                 inbox of 50 vendor mails (invoices, credit notes, purchase orders, receipts, newsletters with
...                 logos, a corrupt PDF, a zip, the same invoice twice), with the FileAdapter for work items.
...
...                 Checks that every attachment ends in exactly one of done, review or failed with a reason in
...                 the run report, that no mail is lost, that a second run takes nothing twice, and that the logs
...                 hold no IBAN or tax id in clear.
...
...                 Run: .venv/bin/python -m robot --pythonpath keywords --outputdir output/acceptance tests/acceptance/robot_e2e.robot
Library             Collections
Library             OperatingSystem
Library             Process
Library             RPA.JSON
Library             resources/E2ELibrary.py
Library             InvoiceLibrary    ledger=${PRIVATE}${/}state${/}invoice-ledger.jsonl
Resource            resources/dovecot.resource

Suite Setup         Run The Robot Twice Over A Generated Inbox


*** Variables ***
${ROOT}         ${{str(pathlib.Path(r"${CURDIR}").parent.parent.resolve())}}
${PYTHON}       ${{sys.executable}}
${MAILS}        50
${SEED}         11
${WORK}         ${OUTPUT_DIR}${/}e2e
# What the robot keeps to itself (its state folder, the corrections store): not an output of the run.
${PRIVATE}      ${ROOT}${/}var${/}test-state${/}e2e
${INBOX}        ${WORK}${/}inbox
# The rules extractor rates vendor names 0.60; below the shipped 0.80 nothing would be done and the done path
# (output work items, keying hand-over) would go untested here.
${MIN_CONFIDENCE}    0.55
${IMAP_PORT}    10995
${IMAP_USER}    robot@invoicebot.test
${IMAP_MAILS}    6
${IMAP_SEED}    12


*** Test Cases ***
No Mail Is Lost
    Every Mail Should Be Reported    ${MANIFEST}    ${RECORDS_1}
    ${left} =    List Files In Directory    ${INBOX}    *.eml
    Should Be Empty    ${left}    msg=mail left unhandled in the inbox: ${left}
    ${processed} =    Count Files In Directory    ${INBOX}${/}processed    *.eml
    Should Be Equal As Integers    ${processed}    ${MAILS}

Every Attachment Ends Done Review Or Failed With A Reason
    ${counts} =    Every Attachment Should Have One Outcome    ${MANIFEST}    ${ITEMS_1}    ${RECORDS_1}
    ${run} =    Report Run Folder    ${WORK}${/}run1${/}report
    ${summary} =    Load JSON From File    ${run}${/}summary.json
    Should Be Equal As Integers    ${summary}[attachments]    ${summary}[attachments_queued]
    ${queued} =    Get Length    ${ITEMS_1}
    Should Be Equal As Integers    ${summary}[attachments]    ${queued}
    File Should Exist    ${run}${/}report.html
    ${done} =    Read Work Items    ${WORK}${/}run1${/}work-items${/}consumer${/}work-items.json
    Length Should Be    ${done}    ${summary}[done]    msg=each done invoice is handed on as one output work item
    Should Be True    ${summary}[done] > 0    msg=no invoice was done; the done path went untested
    File Should Exist    ${run}${/}report.csv

The Corrupt PDF Fails With The Reader's Reason
    @{outcomes} =    Outcomes Of Kind    ${MANIFEST}    ${RECORDS_1}    corrupt_pdf
    Should Not Be Empty    ${outcomes}
    FOR    ${o}    IN    @{outcomes}
        Should Be Equal    ${o}[decision]    failed
        Should Not Be Empty    ${o}[code]
    END

The Same Invoice Twice Is Not Done Twice
    @{outcomes} =    Outcomes Of Kind    ${MANIFEST}    ${RECORDS_1}    duplicate
    Should Not Be Empty    ${outcomes}
    FOR    ${o}    IN    @{outcomes}
        Should Be Equal    ${o}[code]    DUPLICATE
        Should Be Equal    ${o}[decision]    review
    END

Both Documents Of The Zip Are Queued
    @{outcomes} =    Outcomes Of Kind    ${MANIFEST}    ${RECORDS_1}    zip_two_invoices
    Length Should Be    ${outcomes}    2

Purchase Orders Are Never Done
    @{outcomes} =    Outcomes Of Kind    ${MANIFEST}    ${RECORDS_1}    purchase_order
    FOR    ${o}    IN    @{outcomes}
        Should Not Be Equal    ${o}[decision]    done    msg=purchase order ${o}[file_name] was treated as an invoice
    END

Newsletters Queue Nothing And Say Why
    @{mails} =    Mails Of Kind    ${MANIFEST}    ${RECORDS_1}    newsletter
    Should Not Be Empty    ${mails}
    FOR    ${m}    IN    @{mails}
        Should Be Equal As Integers    ${m}[attachments]    0
        Should Contain    ${m}[note]    no document attached
    END

Every Review Item Has A Package For A Person
    FOR    ${r}    IN    @{RECORDS_1}
        IF    $r['kind'] == 'attachment' and $r['decision'] == 'review' and $r['code'] != 'DUPLICATE'
            File Should Exist    ${WORK}${/}run1${/}review${/}${r}[item_id]${/}index.html
            File Should Exist    ${WORK}${/}run1${/}review${/}${r}[item_id]${/}corrections.json
        END
    END

A Reviewer's Correction Becomes A Training Example
    ${low} =    Evaluate    [r for r in $RECORDS_1 if r['kind'] == 'attachment' and r['code'] == 'LOW_CONFIDENCE']
    Should Not Be Empty    ${low}
    ${package} =    Set Variable    ${WORK}${/}run1${/}review${/}${low}[0][item_id]
    ${corrections} =    Load JSON From File    ${package}${/}corrections.json
    Set To Dictionary    ${corrections}    status=corrected    reviewed_by=acceptance
    Set To Dictionary    ${corrections}[fields]    vendor_name=Checked Vendor Ltd    due_date=next week
    Save JSON To File    ${corrections}    ${package}${/}corrections.json
    Run Keyword And Expect Error    CORRECTION_INVALID: 1 problem(s)*fields.due_date = 'next week' is not a date*
    ...    Import Review Corrections    ${WORK}${/}run1${/}review    store=${PRIVATE}${/}corrections
    Directory Should Not Exist    ${PRIVATE}${/}corrections
    Set To Dictionary    ${corrections}[fields]    due_date=${None}
    Save JSON To File    ${corrections}    ${package}${/}corrections.json
    ${imported} =    Import Review Corrections    ${package}    store=${PRIVATE}${/}corrections
    Length Should Be    ${imported}[imported]    1
    ${example} =    Load JSON From File    ${imported}[imported][0][example]
    Should Be Equal    ${example}[fields][vendor_name]    Checked Vendor Ltd
    Should Not Be Empty    ${example}[words]
    List Should Contain Value    ${example}[changed]    vendor_name

A Second Run Takes Nothing Twice
    Length Should Be    ${ITEMS_2}    0
    ${mails} =    Evaluate    [r for r in $RECORDS_2 if r['kind'] == 'mail']
    ${outcomes} =    Evaluate    [r for r in $RECORDS_2 if r['kind'] == 'attachment']
    Should Be Empty    ${mails}
    Should Be Empty    ${outcomes}
    ${run} =    Report Run Folder    ${WORK}${/}run2${/}report
    ${summary} =    Load JSON From File    ${run}${/}summary.json
    Should Be Equal As Integers    ${summary}[mails]    0    msg=the second run's report must exist and count nothing
    ${done_2} =    Read Work Items    ${WORK}${/}run2${/}work-items${/}consumer${/}work-items.json
    Should Be Empty    ${done_2}

Logs And Report Hold No IBAN Or Tax Id In Clear
    ${run} =    Report Run Folder    ${WORK}${/}run1${/}report
    Files Should Not Contain Secrets    ${MANIFEST}
    ...    ${WORK}${/}run1${/}producer.xml    ${WORK}${/}run1${/}consumer.xml
    ...    ${run}${/}report.html    ${run}${/}report.csv
    ...    ${WORK}${/}run1${/}producer-log.html    ${WORK}${/}run1${/}consumer-log.html


Document Keywords Work On A Queued Invoice
    [Documentation]    The single-document keywords on the real engine, with the failures an analyst reads.
    ${done} =    Evaluate    [r for r in $RECORDS_1 if r['kind'] == 'attachment' and r['decision'] == 'done']
    Should Not Be Empty    ${done}
    ${pdf} =    Set Variable    ${WORK}${/}run1${/}consumer-files${/}${done}[0][item_id]${/}${done}[0][file_name]
    ${doc} =    Read Document    ${pdf}
    Should Not Be Empty    ${doc.pages}
    ${kind} =    Classify Document    ${doc}    expected=invoice,credit_note,receipt
    ${invoice} =    Extract Invoice Fields    ${pdf}    required=vendor_name,total_amount    min_confidence=0.5
    Should Match Regexp    ${invoice.value.total_amount}    ^-?\\d+\\.\\d{2}$
    Invoice Should Be Valid    ${invoice}
    ${issues} =    Validate Invoice    ${invoice}
    Set To Dictionary    ${invoice.value}    total_amount=0.01
    ${issues} =    Validate Invoice    ${invoice}
    Should Not Be Empty    ${issues}    msg=a total of 0.01 passed the sum check
    Run Keyword And Expect Error    LOW_CONFIDENCE: * lacks * (confidence *)*
    ...    Extract Invoice Fields    ${pdf}    required=total_amount    min_confidence=1.01
    Run Keyword And Expect Error    NOT_AN_INVOICE: * expected purchase_order
    ...    Classify Document    ${doc}    expected=purchase_order
    ${corrupt} =    Evaluate    [r for r in $RECORDS_1 if r['kind'] == 'attachment' and r['decision'] == 'failed'][0]
    Run Keyword And Expect Error    CORRUPT: *
    ...    Read Document    ${WORK}${/}run1${/}consumer-files${/}${corrupt}[item_id]${/}${corrupt}[file_name]

Producer Reads IMAP With Credentials From The Vault
    [Documentation]    The same producer over the project's Dovecot (TLS on loopback), the login taken from an
    ...    RPA.Robocorp.Vault FileSecrets file: nothing about the mailbox in the task, the password never in a log.
    [Setup]    Start Dovecot With A Vault Secret
    ${out} =    Set Variable    ${WORK}${/}imap${/}run
    Create Directory    ${out}
    Run Task    producer    ${out}    state=${PRIVATE}${/}imap-state
    ...    env:RPA_INPUT_WORKITEM_PATH=${ROOT}${/}devdata${/}work-items-in${/}producer${/}work-items.json
    ...    env:RPA_OUTPUT_WORKITEM_PATH=${out}${/}work-items${/}producer${/}work-items.json
    ...    env:RPA_SECRET_MANAGER=RPA.Robocorp.Vault.FileSecrets    env:RPA_SECRET_FILE=${IMAP_LOGIN}[vault]
    ...    env:INVOICEBOT_IMAP_CAFILE=${IMAP_LOGIN}[cafile]
    ...    variable=IMAP_SECRET:invoice_mailbox
    ${items} =    Read Work Items    ${out}${/}work-items${/}producer${/}work-items.json
    ${documents} =    Evaluate    sum(len(m['documents']) for m in $IMAP_MANIFEST['mails'])
    Length Should Be    ${items}    ${documents}
    ${counts} =    Run Dovecot    count    ${IMAP_USER}
    Should Match Regexp    ${counts}    (?m)^INBOX 0$
    Should Match Regexp    ${counts}    (?m)^Processed ${IMAP_MAILS}$
    Files Should Not Hold The Vault Password    ${IMAP_LOGIN}[vault]    invoice_mailbox
    ...    ${out}${/}producer.xml    ${out}${/}producer-log.html    ${out}${/}producer.stdout.txt
    [Teardown]    Run Dovecot    stop


*** Keywords ***
Start Dovecot With A Vault Secret
    ${dir} =    Set Variable    ${WORK}${/}imap
    Set Suite Variable    ${IMAP_DIR}    ${dir}
    ${manifest}    ${login} =    dovecot.Start Dovecot With A Vault Secret    ${dir}    ${IMAP_PORT}    ${IMAP_USER}
    ...    ${IMAP_MAILS}    ${IMAP_SEED}
    Set Suite Variable    ${IMAP_LOGIN}    ${login}
    Set Suite Variable    ${IMAP_MANIFEST}    ${manifest}

Run Dovecot
    [Arguments]    @{args}
    ${out} =    dovecot.Run Dovecot    ${IMAP_PORT}    @{args}
    RETURN    ${out}

Run The Robot Twice Over A Generated Inbox
    Remove Directory    ${WORK}    recursive=${True}
    Remove Directory    ${PRIVATE}    recursive=${True}
    ${manifest} =    Generate Inbox    ${INBOX}    ${MAILS}    ${SEED}
    Set Suite Variable    ${MANIFEST}    ${manifest}
    Run Producer And Consumer    run1
    Run Producer And Consumer    run2
    FOR    ${run}    IN    1    2
        ${items} =    Read Work Items    ${WORK}${/}run${run}${/}work-items${/}producer${/}work-items.json
        ${records} =    Read Report Records    ${WORK}${/}run${run}${/}report
        Set Suite Variable    ${ITEMS_${run}}    ${items}
        Set Suite Variable    ${RECORDS_${run}}    ${records}
    END

Run Producer And Consumer
    [Arguments]    ${run}
    ${out} =    Set Variable    ${WORK}${/}${run}
    ${items} =    Set Variable    ${out}${/}work-items
    Create Directory    ${out}
    Run Task    producer    ${out}
    ...    env:RPA_INPUT_WORKITEM_PATH=${ROOT}${/}devdata${/}work-items-in${/}producer${/}work-items.json
    ...    env:RPA_OUTPUT_WORKITEM_PATH=${items}${/}producer${/}work-items.json
    Run Task    consumer    ${out}
    ...    env:RPA_INPUT_WORKITEM_PATH=${items}${/}producer${/}work-items.json
    ...    env:RPA_OUTPUT_WORKITEM_PATH=${items}${/}consumer${/}work-items.json

Run Task
    [Documentation]    Runs one task of robot.yaml with ``python -m robot``, as a separate process like an orchestrator.
    [Arguments]    ${task}    ${out}    ${state}=${PRIVATE}${/}state    ${variable}=E2E_UNUSED:1    &{env}
    ${result} =    Run Process    ${PYTHON}    -m    robot    --outputdir    ${out}    --output    ${task}.xml
    ...    --log    ${task}-log.html    --report    NONE    --consolecolors    off
    ...    --variable    MAIL_FOLDER:${INBOX}    --variable    REPORT_DIR:${out}${/}report
    ...    --variable    REVIEW_DIR:${out}${/}review    --variable    ATTACHMENTS_DIR:${out}${/}attachments
    ...    --variable    MIN_CONFIDENCE:${MIN_CONFIDENCE}
    ...    --variable    ${variable}    robot_tasks${/}${task}.robot
    ...    cwd=${ROOT}    env:PYTHONPATH=${ROOT}${/}keywords    env:INVOICEBOT_STATE_DIR=${state}
    ...    env:RPA_WORKITEMS_ADAPTER=InvoiceLibrary.fileadapter.DurableFileAdapter    env:OMP_THREAD_LIMIT=1
    ...    env:INVOICEBOT_IMAP_HOST=${EMPTY}    # the mail folder, unless a task names a vault secret
    ...    &{env}
    ...    stdout=${out}${/}${task}.stdout.txt    stderr=STDOUT    timeout=20 min    on_timeout=kill
    Log    ${result.stdout}
    Should Be Equal As Integers    ${result.rc}    0    msg=${task} failed (rc ${result.rc}); see ${out}${/}${task}-log.html
