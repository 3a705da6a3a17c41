*** Settings ***
Documentation       Consumer that keys invoices from work items into the accounting UI (used by the crash
...                 recovery suite and scripts/bench_keying.py).  One input work item = {"invoice": {values}}.
...                 Outcome per item: an output work item {reference, status, code, invoice_id, state, seconds}
...                 and the input released DONE (KEYED, ALREADY_KEYED) or FAILED (BUSINESS: DUPLICATE,
...                 REVIEW; APPLICATION: the UI failed).  Local run:
...                 RPA_WORKITEMS_ADAPTER=FileAdapter RPA_INPUT_WORKITEM_PATH=items.json
...                 RPA_OUTPUT_WORKITEM_PATH=out.json robot -v POST:True scripts/tryton/keying_worker.robot
Library             RPA.Robocorp.WorkItems
Library             InvoiceLibrary
Suite Setup         Open Accounting
Suite Teardown      Close Accounting


*** Variables ***
${POST}     ${FALSE}


*** Tasks ***
Key Invoices From Work Items
    For Each Input Work Item    Key One Work Item


*** Keywords ***
Key One Work Item
    ${invoice}=    Get Work Item Variable    invoice
    TRY
        ${outcome}=    Key Invoice Into Accounting    ${invoice}    post=${POST}
    EXCEPT    AS    ${error}
        Create Output Work Item
        ...    variables=${{ {"reference": $invoice.get("invoice_number"), "status": "ERROR", "code": "APPLICATION", "message": $error} }}
        ...    save=${TRUE}
        Release Input Work Item    FAILED    exception_type=APPLICATION    code=KEYING_FAILED    message=${error}
        RETURN
    END
    Create Output Work Item
    ...    variables=${{ dict($outcome, reference=$invoice.get("invoice_number")) }}
    ...    save=${TRUE}
    IF    $outcome['status'] in ('KEYED', 'ALREADY_KEYED')
        Release Input Work Item    DONE
    ELSE
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=${outcome}[code]    message=${outcome}[message]
    END
