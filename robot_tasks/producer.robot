*** Settings ***
Documentation       Producer: reads the vendor mailbox and writes one work item per document attachment.
...
...                 Mailbox: IMAP when ``${IMAP_SECRET}`` names a vault secret or ``INVOICEBOT_IMAP_HOST`` is set;
...                 otherwise the folder of ``.eml`` files ``${MAIL_FOLDER}`` (seeded once from
...                 ``resources/demo_inbox``). Each work item carries sender, subject, date, message id, file name
...                 and hash, with the file attached; a document already taken before is queued without a file
...                 (``duplicate_of``) so that a person sees it. Handled mail moves to processed/ (never deleted);
...                 a mail the robot cannot take as it is (too large, MIME that cannot be parsed, more documents than
...                 the per-mail limit) moves to review/ with its reason in the run report, and the run goes on.
...                 Crash-safe: an attachment counts as queued in the ledger only once its work item exists, so a
...                 run stopped at any point queues on the next run what it had not queued, and nothing twice.
Library             RPA.Robocorp.WorkItems
Resource            resources/common.resource

Suite Setup         Open Vendor Mailbox
Suite Teardown      Finish Producer


*** Variables ***
${MAIL_FOLDER}          ${EXECDIR}${/}var${/}inbox
${DEMO_INBOX}           ${EXECDIR}${/}resources${/}demo_inbox
${IMAP_SECRET}          ${EMPTY}
${ATTACHMENTS_DIR}      ${OUTPUT_DIR}${/}attachments


*** Tasks ***
Queue Vendor Attachments
    [Documentation]    One output work item per document attachment of every vendor mail.
    Start Run Report    %{RC_PROCESS_RUN_ID=}
    @{messages} =    List Vendor Messages
    FOR    ${message}    IN    @{messages}
        Queue Attachments Of Message    ${message}
    END


*** Keywords ***
Open Vendor Mailbox
    IF    $IMAP_SECRET
        Open Mailbox    vault_secret=${IMAP_SECRET}    state_dir=${STATE_DIR}
    ELSE IF    '%{INVOICEBOT_IMAP_HOST=}'
        Open Mailbox    state_dir=${STATE_DIR}
    ELSE
        Seed Mail Folder
        Open Mail Folder    ${MAIL_FOLDER}    state_dir=${STATE_DIR}
    END

Seed Mail Folder
    [Documentation]    The embedded inbox is a copy of the demo inbox, so handled mail never moves checked-in files.
    ${exists} =    Run Keyword And Return Status    Directory Should Exist    ${MAIL_FOLDER}
    IF    not ${exists}
        Copy Directory    ${DEMO_INBOX}    ${MAIL_FOLDER}
    END

Queue Attachments Of Message
    [Arguments]    ${message}
    IF    $message['problems']
        Record Mail In Run Report    ${message}    queued=${0}
        Move Message To Review    ${message}    reason=${{'; '.join($message['problems'])}}
        RETURN
    END
    @{attachments} =    Save Invoice Attachments    ${ATTACHMENTS_DIR}    messages=${{[$message]}}
    ...    include_skipped=${True}
    ${queued} =    Set Variable    ${0}
    FOR    ${attachment}    IN    @{attachments}
        ${queue} =    Attachment Should Be Queued    ${attachment}
        IF    ${queue}
            Queue Attachment    ${attachment}    ${message}
            ${queued} =    Evaluate    ${queued} + 1
        END
        IF    $attachment['status'] == 'saved'    Mark Attachment Queued    ${attachment}
    END
    Record Mail In Run Report    ${message}    ${attachments}    queued=${queued}
    Mark Message Processed    ${message}

Queue Attachment
    [Arguments]    ${attachment}    ${message}
    ${payload} =    Attachment Work Item Payload    ${attachment}    ${message}
    IF    $attachment['status'] == 'saved'
        Create Output Work Item    variables=${payload}    files=${attachment}[path]    save=${True}
    ELSE
        Create Output Work Item    variables=${payload}    save=${True}
    END

Finish Producer
    Close Mailbox
    Write Run Report
