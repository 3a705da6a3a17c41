// Helpers that the Tryton profile (tryton.resource) injects into sao, the Tryton web client, after login.
// They only LOOK: conditions to wait on and reads of what the form shows.  All keying is typed by
// Selenium into the page like a person would.  Loaded as text by `Open Accounting`; runs in the page.
(function () {
    'use strict';
    if (window.invoicebot) {
        return;
    }
    var ib = window.invoicebot = {};

    // Bootstrap fades and sao transitions only cost time; the robot waits on concrete conditions.
    ib.disableAnimations = function () {
        if (window.jQuery) {
            jQuery.support.transition = false;
            jQuery.fx.off = true;
        }
        if (!document.getElementById('invoicebot-no-animations')) {
            var style = document.createElement('style');
            style.id = 'invoicebot-no-animations';
            style.textContent = '*, *::before, *::after {transition: none !important; animation: none !important;}';
            document.head.appendChild(style);
        }
    };

    // Poll `cond` every 15 ms until it returns a truthy value or `timeoutMs` passes; `done` gets
    // {ok, value, waited_ms}.  For Execute Async Javascript: one round trip per wait.
    ib.wait = function (cond, timeoutMs, done) {
        var start = Date.now();
        (function poll() {
            var value = null;
            try {
                value = cond();
            } catch (e) {
                value = null;
            }
            if (value) {
                done({ok: true, value: value, waited_ms: Date.now() - start});
            } else if (Date.now() - start > timeoutMs) {
                done({ok: false, value: null, waited_ms: Date.now() - start});
            } else {
                window.setTimeout(poll, 15);
            }
        })();
    };

    ib.idle = function () {                  // no request to the server in flight
        return window.jQuery && jQuery.active === 0;
    };
    // Idle for `ms` already: a form that just got its defaults often sends one more request (on_change)
    // right after; typing in between is overwritten when that answer redraws the form.
    var lastActivity = Date.now();
    jQuery(document).on('ajaxSend ajaxComplete', function () {
        lastActivity = Date.now();
    });
    ib.quiet = function (ms) {
        return ib.idle() && Date.now() - lastActivity >= (ms || 60);
    };
    ib.session = function () {
        return window.Sao && Sao.Session && Sao.Session.current_session &&
            Sao.Session.current_session.user_id ? Sao.Session.current_session : null;
    };
    ib.tab = function () {
        return window.Sao && Sao.Tab && Sao.Tab.tabs.length ? Sao.Tab.tabs.get_current() : null;
    };
    ib.screen = function () {
        var tab = ib.tab();
        return tab && tab.screen ? tab.screen : null;
    };
    ib.record = function () {
        var screen = ib.screen();
        return screen ? screen.current_record : null;
    };
    ib.viewType = function () {
        var screen = ib.screen();
        return screen && screen.current_view ? screen.current_view.view_type : null;
    };
    // The tab that lists supplier invoices is open and shows its list or a form.
    ib.onModel = function (model) {
        var screen = ib.screen();
        return !!(screen && screen.model_name === model && screen.current_view);
    };
    // The Supplier Invoices tab (opened from its URL, found by its name); records opened by id get
    // their own tabs, which are closed when the robot goes back to the list.
    ib.tabName = function (tab) {
        return tab && tab.attributes ? tab.attributes.name : null;
    };
    ib.showTab = function (name) {
        var ours = Sao.Tab.tabs.filter(function (tab) {
            return ib.tabName(tab) === name;
        })[0];
        if (!ours) {
            return false;
        }
        Sao.Tab.tabs.slice().forEach(function (tab) {
            if (tab !== ours) {
                tab.close();
            }
        });
        if (ib.tab() !== ours) {
            ours.show();
        }
        return true;
    };
    ib.onTab = function (name) {
        var tab = ib.tab();
        return !!(tab && ib.tabName(tab) === name && tab.screen && tab.screen.current_view && Sao.Tab.tabs.length === 1);
    };
    // No dialog on the page at all: a fading dialog still takes Ctrl+S / Alt+N.
    ib.noDialog = function () {
        return jQuery('.modal').length === 0 && jQuery('.modal-backdrop').length === 0;
    };
    // A dialog fully shown: Bootstrap's `shown` event reached (sao moves the focus then), marked below.
    jQuery(document).on('shown.bs.modal', '.modal', function (evt) {
        jQuery(evt.target).attr('data-invoicebot-shown', '1');
    });
    ib.dialogShown = function () {
        var modal = jQuery('.modal.in');
        return modal.length === 1 && modal.attr('data-invoicebot-shown') === '1' &&
            modal.find('.modal-dialog').is(':visible');
    };

    ib.isoDate = function (value) {
        if (!value) {
            return '';
        }
        return moment(value).format('YYYY-MM-DD');
    };
    // How the UI wants a date typed (the user's language decides: 05/07/2014, 07.05.2014, ...).
    ib.uiDate = function (iso) {
        return Sao.common.format_date(Sao.common.date_format(), moment(iso, 'YYYY-MM-DD'));
    };
    ib.text = function (record, name) {
        var value = record.field_get_client(name);
        return value === null || value === undefined ? '' : String(value);
    };
    ib.amount = function (record, name) {
        var value = record.field_get(name);
        if (value === null || value === undefined || value === '') {
            return '';
        }
        return Number(value).toFixed(2);
    };

    // Every field the read-back and Post need has been read from the server (sao loads lazily: a record
    // that shows its state may still miss its invoice address, and Post then fails its pre-validation).
    ib.loaded = function (record) {
        var names = ['party', 'invoice_address', 'reference', 'invoice_date', 'currency', 'state', 'lines',
            'untaxed_amount', 'tax_amount', 'total_amount', 'description', 'payment_term'];
        return !!record && names.every(function (name) {
            return record._loaded && name in record._loaded;
        });
    };
    // The current record as the form shows it, after the server answered (read-back).
    ib.readInvoice = function () {
        var record = ib.record();
        if (!record) {
            return null;
        }
        var lines = record.field_get_client('lines');
        return {
            id: record.id,
            number: ib.text(record, 'number'),
            supplier: ib.text(record, 'party'),
            reference: ib.text(record, 'reference'),
            invoice_date: ib.isoDate(record.field_get('invoice_date')),
            currency: ib.text(record, 'currency'),
            untaxed_amount: ib.amount(record, 'untaxed_amount'),
            tax_amount: ib.amount(record, 'tax_amount'),
            total_amount: ib.amount(record, 'total_amount'),
            state: record.field_get('state') || '',
            description: ib.text(record, 'description'),
            line_count: lines && lines.length !== undefined ? lines.length : null,
            line_amounts: (lines || []).map(function (line) {
                return ib.amount(line, 'amount');
            }),
            line_products: (lines || []).map(function (line) {
                return ib.text(line, 'product');
            }),
            modified: record.modified,
        };
    };

    // Ask the server, in the logged-in user's session and rights, for supplier invoices and parties.
    ib.rpc = function (method, params, done) {
        Sao.rpc({method: method, params: params.concat([{}])}, Sao.Session.current_session, true, false)
            .then(function (result) {
                done({ok: true, result: result});
            }, function (error) {
                done({ok: false, error: String(error && error[0] || error)});
            });
    };
    ib.findInvoices = function (supplier, reference, total, isoDate, done) {
        var domain = [['type', '=', 'in'], ['party.name', '=', supplier],
            ['OR', ['reference', 'ilike', reference],
                [['total_amount', '=', total], ['invoice_date', '=', isoDate]]]];
        if (!total) {
            domain = [['type', '=', 'in'], ['party.name', '=', supplier], ['reference', 'ilike', reference]];
        }
        ib.rpc('model.account.invoice.search_read', [domain, 0, null, [['id', 'ASC']],
            ['id', 'number', 'reference', 'invoice_date', 'total_amount', 'state', 'description',
                'party.name', 'currency.code']], function (res) {
            if (!res.ok) {
                done(res);
                return;
            }
            done({ok: true, result: res.result.map(function (r) {
                return {
                    id: r.id, number: r.number || '', reference: r.reference || '',
                    invoice_date: ib.isoDate(r.invoice_date),
                    total_amount: r.total_amount === null ? '' : Number(r.total_amount).toFixed(2),
                    state: r.state, description: r.description || '',
                    supplier: r['party.'] ? r['party.'].name : '',
                    currency: r['currency.'] ? r['currency.'].code : '',
                };
            })});
        });
    };
    ib.supplierExists = function (name, done) {
        ib.rpc('model.party.party.search_count', [[['name', '=', name]]], function (res) {
            done(res.ok ? {ok: true, result: res.result > 0} : res);
        });
    };
})();
