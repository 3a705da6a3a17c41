*** Settings ***
Documentation       Mailbox intake against a real Dovecot over TLS, started by scripts/dovecot.sh.
...
...                 The suite starts its own Dovecot (state in a temp folder, port 10994, a random
...                 password made here), delivers a generated inbox, takes the invoice attachments
...                 with the real keywords, and checks on the server side (doveadm) that mail is
...                 moved, never deleted, and that a second run takes nothing twice.
...
...                 Run: .venv/bin/python -m robot --pythonpath keywords tests/acceptance/mailbox.robot

Library             Collections
Library             OperatingSystem
Library             Process
Library             String
Library             InvoiceLibrary

Suite Setup         Start Test Mail Server
Suite Teardown      Stop Test Mail Server


*** Variables ***
${ROOT}             ${CURDIR}/../..
${DOVECOT}          ${ROOT}/scripts/dovecot.sh
${PORT}             10994
${HOST}             127.0.0.1
${USER}             robot@invoicebot.test
${MAILS}            20
${SEED}             5


*** Test Cases ***
Wrong Password Fails With A Clear Message
    Run Keyword And Expect Error
    ...    *IMAP server ${HOST}:${PORT} refused the login of user '${USER}'*check the user name and password*
    ...    Open Mailbox    password=not-the-password

Server Down Names Host And Port
    Run Keyword And Expect Error
    ...    *cannot reach the IMAP server ${HOST}:10999: connection refused*scripts/dovecot.sh status*
    ...    Open Mailbox    port=10999

Untrusted Certificate Is Refused
    Run Keyword And Expect Error
    ...    *TLS certificate of the IMAP server ${HOST}:${PORT} is not trusted*cafile*
    ...    Open Mailbox    cafile=/etc/ssl/certs/ca-certificates.crt

Save Invoice Attachments Over TLS
    &{before} =    Server Folder Counts
    Should Be Equal As Integers    ${before}[INBOX]    ${MAILS}
    Open Mailbox    state_dir=${STATE}/robot-state
    @{messages} =    List Vendor Messages
    Length Should Be    ${messages}    ${MAILS}
    @{saved} =    Save Invoice Attachments    ${ATTACHMENTS}
    ${manifest} =    Load Manifest
    Length Should Be    ${saved}    ${manifest}[unique_documents]
    FOR    ${doc}    IN    @{saved}
        File Should Exist    ${doc}[path]
        ${sha} =    Evaluate    hashlib.sha256(pathlib.Path($doc['path']).read_bytes()).hexdigest()    modules=hashlib,pathlib
        Should Be Equal    ${sha}    ${doc}[sha256]
        Should Not Be Empty    ${doc}[sender]
        Should Not Be Empty    ${doc}[message_id]
        Should Match Regexp    ${doc}[date]    ^\\d{4}-\\d{2}-\\d{2}T
        Should Contain Any    ${doc}[media_type]    application/pdf    image/png
    END
    ${files} =    Count Files In Directory    ${ATTACHMENTS}
    Should Be Equal As Integers    ${files}    ${manifest}[unique_documents]
    # Listing and saving change nothing on the server: still all in INBOX, none marked read.
    &{after} =    Server Folder Counts
    Dictionaries Should Be Equal    ${before}    ${after}
    ${seen} =    Server Seen Count    INBOX
    Should Be Equal As Integers    ${seen}    0

A Run Stopped Before Queueing Saves Them Again, One That Queued Them Saves Nothing New
    # no work item was made for them yet: a second run takes them again (for the producer to queue)
    @{again} =    Save Invoice Attachments    ${ATTACHMENTS}
    ${manifest} =    Load Manifest
    Length Should Be    ${again}    ${manifest}[unique_documents]
    FOR    ${doc}    IN    @{again}
        Mark Attachment Queued    ${doc}
    END
    @{saved} =    Save Invoice Attachments    ${ATTACHMENTS}
    Should Be Empty    ${saved}
    @{all} =    Save Invoice Attachments    ${ATTACHMENTS}    include_skipped=${True}
    Should Not Be Empty    ${all}
    FOR    ${item}    IN    @{all}
        Should Be Equal    ${item}[status]    skipped
    END

Handled Mail Is Moved Not Deleted
    &{before} =    Server Folder Counts
    ${total_before} =    Sum Of Values    ${before}
    @{messages} =    List Vendor Messages
    ${with_documents} =    Set Variable    ${0}
    FOR    ${m}    IN    @{messages}
        IF    ${m}[documents] > 0
            Mark Message Processed    ${m}
            ${with_documents} =    Evaluate    ${with_documents} + 1
        ELSE
            Move Message To Review    ${m}    reason=no document attached
        END
    END
    &{after} =    Server Folder Counts
    ${total_after} =    Sum Of Values    ${after}
    Should Be Equal As Integers    ${total_after}    ${total_before}
    Should Be Equal As Integers    ${after}[INBOX]    0
    Should Be Equal As Integers    ${after}[Processed]    ${with_documents}
    ${review} =    Evaluate    ${MAILS} - ${with_documents}
    Should Be Equal As Integers    ${after}[Review]    ${review}
    &{seen_by_robot} =    Get Mailbox Folder Counts
    Dictionaries Should Be Equal    ${seen_by_robot}    ${after}
    @{left} =    List Vendor Messages
    Should Be Empty    ${left}

Redelivered Invoice Is Not Taken Twice
    @{files} =    List Files In Directory    ${INBOX}    001-*.eml    absolute=True
    Deliver Mail    @{files}
    @{messages} =    List Vendor Messages
    Length Should Be    ${messages}    1
    Should Be True    ${messages}[0][documents] > 0
    @{saved} =    Save Invoice Attachments    ${ATTACHMENTS}
    Should Be Empty    ${saved}
    Move Message To Review    ${messages}[0]    reason=duplicate
    &{after} =    Server Folder Counts
    Should Be Equal As Integers    ${after}[INBOX]    0
    [Teardown]    Close Mailbox

Folder Of Eml Files Is The Embedded Default
    Copy Directory    ${ROOT}/resources/demo_inbox    ${STATE}/demo_inbox
    Open Mail Folder    ${STATE}/demo_inbox    state_dir=${STATE}/folder-state
    @{saved} =    Save Invoice Attachments    ${STATE}/demo_attachments
    ${manifest} =    Load Manifest    ${STATE}/demo_inbox
    Length Should Be    ${saved}    ${manifest}[unique_documents]
    @{messages} =    List Vendor Messages
    FOR    ${m}    IN    @{messages}
        Mark Message Processed    ${m}
    END
    &{counts} =    Get Mailbox Folder Counts
    Should Be Equal As Integers    ${counts}[INBOX]    0
    Should Be Equal As Integers    ${counts}[processed]    ${manifest}[count]
    [Teardown]    Close Mailbox


*** Keywords ***
Start Test Mail Server
    ${state} =    Set Variable    ${TEMPDIR}/invoicebot-mailbox-acceptance
    Set Suite Variable    ${STATE}    ${state}
    Set Suite Variable    ${INBOX}    ${state}/generated
    Set Suite Variable    ${ATTACHMENTS}    ${state}/attachments
    Set Environment Variable    INVOICEBOT_DOVECOT_DIR    ${state}/dovecot
    Set Environment Variable    INVOICEBOT_IMAP_HOST    ${HOST}
    Set Environment Variable    INVOICEBOT_IMAP_PORT    ${PORT}
    Set Environment Variable    INVOICEBOT_IMAP_USER    ${USER}
    # A fresh random password for this run, set without passing through a Robot variable so it is never logged
    # (INVOICEBOT_TEST_IMAP_PASSWORD, when set, is used instead: to check the log for leaks).
    Evaluate    os.environ.update(INVOICEBOT_IMAP_PASSWORD=os.environ.get('INVOICEBOT_TEST_IMAP_PASSWORD') or secrets.token_urlsafe(18))
    ...    modules=os,secrets
    Set Environment Variable    INVOICEBOT_IMAP_CAFILE    ${state}/dovecot/tls/cert.pem
    Run Dovecot Script    stop
    Remove Directory    ${state}    recursive=True
    Create Directory    ${state}
    Run Dovecot Script    start
    Run Dovecot Script    adduser    ${USER}
    ${python} =    Evaluate    sys.executable    modules=sys
    ${result} =    Run Process    ${python}    -m    invoicebot.mailgen    --out    ${INBOX}    -n    ${MAILS}
    ...    --seed    ${SEED}    cwd=${ROOT}/keywords    # cwd, not env:, which would log the environment
    Should Be Equal As Integers    ${result.rc}    0    make-inbox failed: ${result.stderr}
    @{files} =    List Files In Directory    ${INBOX}    *.eml    absolute=True
    Deliver Mail    @{files}

Stop Test Mail Server
    Close Mailbox
    Run Dovecot Script    stop
    # the suites after this one run in the same process: leave them no pointer to a stopped server
    FOR    ${name}    IN    DOVECOT_DIR    IMAP_HOST    IMAP_PORT    IMAP_USER    IMAP_PASSWORD    IMAP_CAFILE
        Remove Environment Variable    INVOICEBOT_${name}
    END

Run Dovecot Script
    [Arguments]    @{args}
    ${result} =    Run Process    bash    ${DOVECOT}    @{args}
    Log    ${result.stdout}
    Should Be Equal As Integers    ${result.rc}    0    scripts/dovecot.sh ${args}[0] failed: ${result.stderr}
    RETURN    ${result.stdout}

Deliver Mail
    [Arguments]    @{files}
    Run Dovecot Script    deliver    ${USER}    @{files}

Server Folder Counts
    [Documentation]    Messages per folder as the server itself reports them (doveadm), not via IMAP.
    ${out} =    Run Dovecot Script    count    ${USER}
    &{counts} =    Create Dictionary
    FOR    ${line}    IN    @{out.splitlines()}
        ${name}    ${n} =    Split String From Right    ${line}    ${SPACE}    1
        Set To Dictionary    ${counts}    ${name}=${n.strip()}
    END
    FOR    ${folder}    IN    INBOX    Processed    Review
        IF    $folder not in $counts    Set To Dictionary    ${counts}    ${folder}=0
    END
    ${ints} =    Evaluate    {k: int(v) for k, v in $counts.items()}
    RETURN    ${ints}

Server Seen Count
    [Arguments]    ${folder}
    ${result} =    Run Process    doveadm    -c    ${STATE}/dovecot/dovecot.conf    search    -u    ${USER}
    ...    mailbox    ${folder}    SEEN
    Should Be Equal As Integers    ${result.rc}    0    doveadm search failed: ${result.stderr}
    ${lines} =    Get Line Count    ${result.stdout.strip()}
    RETURN    ${lines}

Sum Of Values
    [Arguments]    ${counts}
    ${total} =    Evaluate    sum($counts.values())
    RETURN    ${total}

Load Manifest
    [Arguments]    ${folder}=${INBOX}
    ${text} =    Get File    ${folder}/manifest.json
    # masked when logged (TRACE logs return values): the manifest holds the documents' IBANs and tax ids
    ${manifest} =    Evaluate    InvoiceLibrary.base.MaskedDict(json.loads($text))    modules=json,InvoiceLibrary.base
    RETURN    ${manifest}
