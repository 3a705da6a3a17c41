*** Settings ***
Documentation       Keys invoices into the real Tryton (started by scripts/tryton/start.sh) through sao in
...                 headless Chromium, and checks each one against what Tryton holds (proteus).
...                 Run: SE_OFFLINE=true PYTHONPATH=keywords .venv/bin/robot -d output/keying tests/acceptance/keying.robot
...                 Variables: -v COUNT:5 (invoices keyed), -v POST:True.
Library             Collections
Library             Process
Library             InvoiceLibrary
Library             ${CURDIR}/../../scripts/tryton/TrytonCheck.py
Suite Setup         Start Tryton And Log In
Suite Teardown      Close Accounting
Test Tags           acceptance    tryton


*** Variables ***
${COUNT}        5
${POST}         ${FALSE}


*** Test Cases ***
Keyed Invoices Read Back Equal To What Was Extracted
    [Documentation]    N invoices (one line each) keyed as drafts; each is read back through the UI and through proteus.
    ${run}=    New Run Id    K
    ${invoices}=    Make Test Invoices    ${COUNT}    ${run}
    FOR    ${invoice}    IN    @{invoices}
        ${outcome}=    Key Invoice Into Accounting    ${invoice}    post=${POST}
        Should Be Equal    ${outcome}[status]    KEYED    ${outcome}[message]
        Should Be Empty    ${outcome}[differences]
        Invoice In Tryton Should Equal    ${outcome}[invoice_id]    ${invoice}
    END
    ${stored}=    Supplier Invoices    reference_prefix=${run}-
    Length Should Be    ${stored}    ${COUNT}

Line Items Are Keyed As Lines And Posted
    [Documentation]    An invoice with three line items becomes three lines; posting is done through the UI.
    ${run}=    New Run Id    L
    ${invoices}=    Make Test Invoices    1    ${run}    lines=3
    ${outcome}=    Key Invoice Into Accounting    ${invoices}[0]    post=${TRUE}
    Should Be Equal    ${outcome}[status]    KEYED    ${outcome}[message]
    Should Be Equal    ${outcome}[state]    posted
    ${stored}=    Invoice In Tryton Should Equal    ${outcome}[invoice_id]    ${invoices}[0]
    Should Be Equal As Integers    ${stored}[line_count]    3
    Should Be Equal    ${stored}[state]    posted

Same Supplier And Reference Is A Duplicate
    [Documentation]    The same invoice from another document (another marker) is not keyed twice.
    ${run}=    New Run Id    D
    ${invoices}=    Make Test Invoices    1    ${run}
    ${first}=    Key Invoice Into Accounting    ${invoices}[0]
    Should Be Equal    ${first}[status]    KEYED    ${first}[message]
    ${again}=    Copy Dictionary    ${invoices}[0]
    Set To Dictionary    ${again}    sha256=another-document-of-the-same-invoice
    ${second}=    Key Invoice Into Accounting    ${again}
    Should Be Equal    ${second}[status]    DUPLICATE
    Should Be Equal As Integers    ${second}[invoice_id]    ${first}[invoice_id]
    ${stored}=    Supplier Invoices    reference_prefix=${run}-
    Length Should Be    ${stored}    1

The Same Document Again Is Found, Not Keyed Again
    ${run}=    New Run Id    A
    ${invoices}=    Make Test Invoices    1    ${run}
    ${first}=    Key Invoice Into Accounting    ${invoices}[0]
    ${second}=    Key Invoice Into Accounting    ${invoices}[0]
    Should Be Equal    ${second}[status]    ALREADY_KEYED
    Should Be Equal As Integers    ${second}[invoice_id]    ${first}[invoice_id]

Unknown Supplier Goes To Review
    ${run}=    New Run Id    U
    ${invoices}=    Make Test Invoices    1    ${run}
    Set To Dictionary    ${invoices}[0]    vendor_name=Nobody We Know ${run} GmbH
    ${outcome}=    Key Invoice Into Accounting    ${invoices}[0]
    Should Be Equal    ${outcome}[status]    REVIEW
    Should Be Equal    ${outcome}[code]    UNKNOWN_SUPPLIER
    ${stored}=    Supplier Invoices    reference_prefix=${run}-
    Should Be Empty    ${stored}

An Unknown Supplier Is Created When The Profile Allows It
    [Documentation]    With \${CREATE_UNKNOWN_SUPPLIER} set, the party completion's Create... makes the supplier.
    [Teardown]    Set Global Variable    ${CREATE_UNKNOWN_SUPPLIER}    ${FALSE}
    Set Global Variable    ${CREATE_UNKNOWN_SUPPLIER}    ${TRUE}
    ${run}=    New Run Id    N
    ${invoices}=    Make Test Invoices    1    ${run}
    Set To Dictionary    ${invoices}[0]    vendor_name=New Vendor ${run} GmbH
    ${outcome}=    Key Invoice Into Accounting    ${invoices}[0]    post=${TRUE}
    Should Be Equal    ${outcome}[status]    KEYED    ${outcome}[message]
    Should Be Equal    ${outcome}[state]    posted
    Invoice In Tryton Should Equal    ${outcome}[invoice_id]    ${invoices}[0]

A Tax That Matches No Rate Goes To Review
    ${run}=    New Run Id    T
    ${invoices}=    Make Test Invoices    1    ${run}
    Set To Dictionary    ${invoices}[0]    subtotal_amount=100.00    tax_amount=13.00    total_amount=113.00
    ${outcome}=    Key Invoice Into Accounting    ${invoices}[0]
    Should Be Equal    ${outcome}[status]    REVIEW
    Should Be Equal    ${outcome}[code]    UNKNOWN_TAX


*** Keywords ***
Start Tryton And Log In
    ${result}=    Run Process    bash    ${CURDIR}/../../scripts/tryton/start.sh    stderr=STDOUT
    Should Be Equal As Integers    ${result.rc}    0    scripts/tryton/start.sh failed: ${result.stdout}
    Open Accounting

New Run Id
    [Arguments]    ${kind}
    ${id}=    Evaluate    "${kind}" + __import__("uuid").uuid4().hex[:8].upper()
    RETURN    ${id}

Invoice In Tryton Should Equal
    [Documentation]    Reads the invoice through proteus (not the UI) and compares it with the extracted values.
    [Arguments]    ${invoice_id}    ${invoice}
    ${stored}=    Supplier Invoices    reference_prefix=${invoice}[invoice_number]
    Length Should Be    ${stored}    1
    ${s}=    Set Variable    ${stored}[0]
    Should Be Equal As Integers    ${s}[id]    ${invoice_id}
    Should Be Equal    ${s}[supplier]    ${invoice}[vendor_name]
    Should Be Equal    ${s}[reference]    ${invoice}[invoice_number]
    Should Be Equal    ${s}[invoice_date]    ${invoice}[invoice_date]
    Should Be Equal    ${s}[currency]    ${invoice}[currency]
    Should Be Equal As Numbers    ${s}[untaxed_amount]    ${invoice}[subtotal_amount]
    Should Be Equal As Numbers    ${s}[tax_amount]    ${invoice}[tax_amount]
    Should Be Equal As Numbers    ${s}[total_amount]    ${invoice}[total_amount]
    RETURN    ${s}
