*** Settings ***
Documentation       Consumer: for each attachment work item, classify, extract and validate the document, then
...                 hand it to keying (only when ``${ACCOUNTING_PROFILE}`` names a UI profile under
...                 resources/accounting/) or to a person.
...
...                 Each item ends in exactly one of: done (released DONE), review (released FAILED with a
...                 BUSINESS exception and a code: LOW_CONFIDENCE, INVALID, NOT_AN_INVOICE, DUPLICATE; a review
...                 package is written) or failed (unreadable file: BUSINESS with the reader's code; a cause a
...                 retry can fix: APPLICATION). Every item is recorded in the run report with its reason.
Library             RPA.Robocorp.WorkItems    autoload=${False}
Resource            resources/common.resource

Suite Setup         Load Accounting Profile
Suite Teardown      Finish Consumer


*** Variables ***
${ACCOUNTING_PROFILE}       ${EMPTY}
# Create a supplier the accounting system does not know (True) or send its invoices to review (False).
${CREATE_SUPPLIERS}         ${False}
# Post keyed invoices (True) or leave them as drafts for a person to post (False).
${POST_INVOICES}            ${False}
${WORK_DIR}                 ${OUTPUT_DIR}${/}consumer-files


*** Tasks ***
Process Attachment Work Items
    [Documentation]    Takes every input work item once and releases it with its outcome.
    For Each Input Work Item    Process One Attachment    return_results=${False}


*** Keywords ***
Load Accounting Profile
    IF    $ACCOUNTING_PROFILE    Use Accounting Profile    ${ACCOUNTING_PROFILE}
    # after the import: the profile's own Variables section would hide a value given on the command line
    IF    $ACCOUNTING_PROFILE and $CREATE_SUPPLIERS
        Set Global Variable    ${CREATE_UNKNOWN_SUPPLIER}    ${TRUE}
    END

Finish Consumer
    IF    $ACCOUNTING_PROFILE    Run Keyword And Ignore Error    Close Accounting
    Write Run Report

Process One Attachment
    ${payload} =    Get Work Item Variables
    IF    not $payload
        Log    Empty work item (nothing was queued); released as done.
        RETURN
    END
    ${started} =    Evaluate    time.time()
    ${invoice} =    Set Variable    ${None}
    TRY
        ${route}    ${invoice} =    Decide Attachment    ${payload}
    EXCEPT    AS    ${error}
        ${route} =    Create Dictionary    decision=failed    code=APPLICATION_ERROR    exception_type=APPLICATION
        ...    reason=the robot could not finish this item (${error}); a retry may succeed once the cause is fixed
    END
    Finish Attachment    ${payload}    ${route}    ${invoice}    ${started}

Decide Attachment
    [Documentation]    Classify, extract and validate one attachment, key it or send it to review.
    [Arguments]    ${payload}
    IF    'duplicate_of' in $payload
        ${route} =    Create Dictionary    decision=review    code=DUPLICATE    exception_type=BUSINESS
        ...    reason=${payload}[duplicate_of]
        RETURN    ${route}    ${None}
    END
    Create Directory    ${WORK_DIR}${/}${payload}[item_key]
    ${path} =    Get Work Item File    ${payload}[file_name]
    ...    ${WORK_DIR}${/}${payload}[item_key]${/}${payload}[file_name]
    ${invoice} =    Extract Invoice Fields    ${path}    allow_unreadable=${True}
    ${route} =    Decide Invoice Route    ${invoice}    item=${payload}[item_key]
    ...    required=${REQUIRED_FIELDS}    min_confidence=${MIN_CONFIDENCE}
    IF    $route['decision'] == 'done' and $ACCOUNTING_PROFILE
        ${route} =    Key Invoice Or Explain    ${invoice}    ${route}
    END
    IF    $route['decision'] == 'review'
        Send Invoice To Review    ${invoice}    ${route}    item=${payload}[item_key]    source=${payload}
    END
    RETURN    ${route}    ${invoice}

Key Invoice Or Explain
    [Documentation]    Keys the invoice and reads it back. A supplier invoice the accounting system already has
    ...    (DUPLICATE) or cannot take as it is (REVIEW: unknown supplier, no matching tax, read-back differs) goes
    ...    to a person; a UI that does not respond is an application exception (a retry may succeed).
    [Arguments]    ${invoice}    ${route}
    TRY
        ${outcome} =    Key Invoice Into Accounting    ${invoice}    post=${POST_INVOICES}
    EXCEPT    AS    ${error}
        ${route} =    Create Dictionary    decision=failed    code=KEYING    exception_type=APPLICATION
        ...    reason=keying into ${ACCOUNTING_PROFILE} failed: ${error}
        RETURN    ${route}
    END
    IF    $outcome['status'] in ('KEYED', 'ALREADY_KEYED')
        ${route} =    Create Dictionary    decision=done    code=${EMPTY}    exception_type=${EMPTY}
        ...    reason=${outcome}[status] in ${ACCOUNTING_PROFILE} as ${outcome}[invoice_id] (${outcome}[state])
    ELSE
        ${code} =    Set Variable If    $outcome['status'] == 'DUPLICATE'    DUPLICATE    ${outcome}[code]
        ${route} =    Create Dictionary    decision=review    code=${code}    exception_type=BUSINESS
        ...    reason=${outcome}[message]
    END
    RETURN    ${route}

Finish Attachment
    [Arguments]    ${payload}    ${route}    ${invoice}    ${started}
    ${now} =    Evaluate    time.time()
    Record Attachment Outcome    ${payload}    ${route}    ${invoice}    seconds=${now - ${started}}
    IF    $route['decision'] == 'done'
        ${out} =    Invoice Work Item Payload    ${payload}    ${invoice}
        ${json} =    Save Invoice Result    ${invoice}    ${WORK_DIR}${/}done${/}${out}[result_file]
        ${sent} =    Work Item Was Handed On    ${out}[item_key]
        IF    not ${sent}
            Create Output Work Item    variables=${out}    files=${json}    save=${True}
        END
        Release Input Work Item    DONE
    ELSE
        Release Input Work Item    FAILED    exception_type=${route}[exception_type]    code=${route}[code]
        ...    message=${route}[reason]
    END
