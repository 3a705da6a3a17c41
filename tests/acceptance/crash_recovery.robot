*** Settings ***
Documentation       A keying robot killed with SIGKILL in the middle of a run, then run again over the same
...                 work items, leaves every invoice in Tryton exactly once: none keyed twice, none lost.
...                 The worker is scripts/tryton/keying_worker.robot over a local work-item queue
...                 (RPA.Robocorp.WorkItems FileAdapter re-delivers every item, as an orchestrator does
...                 with items that were never released).  The kill comes right after the K-th invoice was
...                 saved in Tryton: between saving it and releasing its work item.
...                 Run: SE_OFFLINE=true PYTHONPATH=keywords .venv/bin/robot -d output/crash tests/acceptance/crash_recovery.robot
Library             Collections
Library             OperatingSystem
Library             Process
Library             ${CURDIR}/../../scripts/tryton/TrytonCheck.py
Suite Setup         Start Tryton
Test Tags           acceptance    tryton    crash


*** Variables ***
${COUNT}            8
${KILL_AFTER}       3
${WORKER}           ${CURDIR}/../../scripts/tryton/keying_worker.robot


*** Test Cases ***
A Robot Killed Between Saving And Releasing Neither Duplicates Nor Loses An Invoice
    ${run}=    Evaluate    "C" + __import__("uuid").uuid4().hex[:8].upper()
    ${dir}=    Set Variable    ${OUTPUT_DIR}/crash-${run}
    ${invoices}=    Make Test Invoices    ${COUNT}    ${run}
    ${items}=    Write Work Items    ${invoices}    ${dir}/items.json
    ${first}=    Start Worker    ${items}    ${dir}    first
    # saved as draft, not yet posted: its work item cannot have been released
    Wait Until Keyword Succeeds    300 s    0.05 s    Tryton Should Hold A Saved Unposted Invoice    ${run}    ${KILL_AFTER}
    # the whole process group: robot, chromedriver and Chromium die at once, as in a machine crash
    Send Signal To Process    SIGKILL    ${first}    group=${TRUE}
    ${killed}=    Wait For Process    ${first}    timeout=30 s
    Should Be Equal As Integers    ${killed.rc}    -9    the first worker run was not killed
    # Chromium runs in its own process group: end the killed run's browser (its profile is in that run's folder)
    End Processes Using    ${dir}/first/invoicebot-chromium-
    ${before}=    Supplier Invoices    reference_prefix=${run}-
    ${released}=    Read Work Item Outputs    ${dir}/first-outputs.json
    Log    killed with ${{len($before)}} invoice(s) in Tryton and ${{len($released)}} work item(s) released
    Should Be True    len($before) < ${COUNT}    the kill came too late to test anything
    # the kill lands between saving and releasing unless the robot finished that item in the few ms after the poll
    IF    len($released) >= len($before)
        Log    the kill came after the last saved invoice was released; the rerun is still checked    WARN
    END
    ${second}=    Start Worker    ${items}    ${dir}    second
    ${done}=    Wait For Process    ${second}    timeout=600 s    on_timeout=kill
    Should Be Equal As Integers    ${done.rc}    0    the rerun failed; see ${dir}/second/log.html
    ${after}=    Supplier Invoices    reference_prefix=${run}-
    Length Should Be    ${after}    ${COUNT}    Tryton does not hold exactly one invoice per work item
    FOR    ${invoice}    IN    @{invoices}
        Invoice Should Be In Tryton Once    ${after}    ${invoice}
    END
    ${outcomes}=    Read Work Item Outputs    ${dir}/second-outputs.json
    Length Should Be    ${outcomes}    ${COUNT}
    ${already}=    Evaluate    [o["reference"] for o in $outcomes if o["status"] == "ALREADY_KEYED"]
    ${keyed}=    Evaluate    [o["reference"] for o in $outcomes if o["status"] == "KEYED"]
    ${before_refs}=    Evaluate    sorted(b["reference"] for b in $before)
    Should Be Equal    ${{sorted($already)}}    ${before_refs}    the rerun did not recognise the invoices keyed before the kill
    Length Should Be    ${keyed}    ${{${COUNT} - len($before)}}


*** Keywords ***
Start Tryton
    ${result}=    Run Process    bash    ${CURDIR}/../../scripts/tryton/start.sh    stderr=STDOUT
    Should Be Equal As Integers    ${result.rc}    0    scripts/tryton/start.sh failed: ${result.stdout}

Start Worker
    [Arguments]    ${items}    ${dir}    ${name}
    ${python}=    Evaluate    sys.executable    modules=sys
    ${handle}=    Start Process    ${python}    -m    robot    --outputdir    ${dir}/${name}    --console    dotted
    ...    -v    POST:True    ${WORKER}
    ...    env:RPA_WORKITEMS_ADAPTER=FileAdapter    env:RPA_INPUT_WORKITEM_PATH=${items}
    ...    env:RPA_OUTPUT_WORKITEM_PATH=${dir}/${name}-outputs.json    env:SE_OFFLINE=true
    ...    env:PYTHONPATH=${CURDIR}/../../keywords    stdout=${dir}/${name}.log    stderr=STDOUT
    RETURN    ${handle}

Tryton Should Hold A Saved Unposted Invoice
    [Arguments]    ${run}    ${count}
    ${drafts}=    Count Supplier Invoices    ${run}-    state=draft
    Should Be True    ${drafts} >= 1
    ${all}=    Count Supplier Invoices    ${run}-
    Should Be True    ${all} >= ${count}

Invoice Should Be In Tryton Once
    [Arguments]    ${stored}    ${invoice}
    ${same}=    Evaluate    [s for s in $stored if s["reference"] == ${{ repr($invoice["invoice_number"]) }}]
    Length Should Be    ${same}    1    invoice ${invoice}[invoice_number] is in Tryton ${{len($same)}} times
    ${s}=    Set Variable    ${same}[0]
    Should Be Equal    ${s}[supplier]    ${invoice}[vendor_name]
    Should Be Equal    ${s}[invoice_date]    ${invoice}[invoice_date]
    Should Be Equal    ${s}[currency]    ${invoice}[currency]
    Should Be Equal As Numbers    ${s}[total_amount]    ${invoice}[total_amount]
    Should Be Equal    ${s}[state]    posted    invoice ${invoice}[invoice_number] was not posted after the rerun
