//! ONE handler table: which operations have a flow, and which product module runs it with
//! which part of the world. Routing (`handle`) and the operations list's `stateful` flag are
//! derived from it; every other operation answers from its spec example.

use crate::answer::{Answer, Call};
use crate::business;
use crate::dd;
use crate::ipg;
use crate::sanbod;
use crate::settlement;
use crate::statement;
use crate::world::World;

/// A stateful operation's handler.
type Handler = fn(&mut World, &Call<'_>) -> Answer;

/// THE table of stateful operations: `(spec, operation id, handler)`. Routing to a flow, the
/// `stateful` flag of `/__sandbox/operations` and the check that every entry names a spec
/// operation are all derived from it; every other operation answers from its spec example.
const HANDLERS: &[(&str, &str, Handler)] = &[
    ("vandar-ipg", "send_payment", |w, c| {
        ipg::send_payment(&mut w.core, &mut w.ipg, c)
    }),
    ("vandar-ipg", "get_transaction_info", |w, c| {
        ipg::transaction_info(&mut w.core, &mut w.ipg, c)
    }),
    ("vandar-ipg", "verify_payment", |w, c| {
        ipg::verify_payment(&mut w.core, &mut w.ipg, c)
    }),
    ("vandar-core", "refresh_token", |w, c| {
        statement::refresh_token(&mut w.core, c)
    }),
    ("vandar-core", "get_balance", |w, _| {
        statement::balance(&mut w.core)
    }),
    ("vandar-core", "list_transactions", |w, c| {
        statement::list_transactions(&mut w.core, c)
    }),
    ("vandar-core", "store_settlement", |w, c| {
        settlement::store_settlement(&mut w.core, &w.biz, c)
    }),
    ("vandar-core", "list_settlements", |w, c| {
        settlement::list_settlements(&mut w.core, c)
    }),
    ("vandar-core", "get_settlement", |w, c| {
        settlement::get_settlement(&mut w.core, c)
    }),
    ("vandar-core", "cancel_settlement", |w, c| {
        settlement::cancel_settlement(&mut w.core, c)
    }),
    ("sanbod", "authorize", |w, c| {
        sanbod::sanbod_authorize(&mut w.core, &mut w.sanbod, c)
    }),
    ("sanbod", "token", |w, c| {
        sanbod::sanbod_token(&mut w.core, &mut w.sanbod, c)
    }),
    ("sanbod", "revoke", |w, c| {
        sanbod::sanbod_revoke(&mut w.sanbod, c)
    }),
    ("vandar-subscription", "store_authorization", |w, c| {
        dd::store_authorization(&mut w.core, &mut w.dd, c)
    }),
    ("vandar-subscription", "verify_authorization", |w, c| {
        dd::verify_authorization(&mut w.dd, c)
    }),
    ("vandar-subscription", "list_authorizations", |w, c| {
        dd::list_authorizations(&mut w.core, &mut w.dd, c)
    }),
    ("vandar-subscription", "search_authorization", |w, c| {
        dd::search_authorization(&mut w.dd, c)
    }),
    (
        "vandar-subscription",
        "get_authorization_calculation",
        |w, c| dd::calculation(&mut w.core, &mut w.dd, c),
    ),
    ("vandar-subscription", "revoke_authorization", |w, c| {
        dd::revoke(&mut w.core, &mut w.dd, c)
    }),
    ("vandar-subscription", "store_withdrawal", |w, c| {
        dd::store_withdrawal(&mut w.core, &mut w.dd, c)
    }),
    ("vandar-subscription", "get_withdrawal", |w, c| {
        dd::get_withdrawal(&mut w.core, &mut w.dd, c)
    }),
    (
        "vandar-subscription",
        "get_withdrawal_by_track_id",
        |w, c| dd::get_withdrawal_by_track(&mut w.core, &mut w.dd, c),
    ),
    ("vandar-subscription", "list_withdrawals", |w, c| {
        dd::list_withdrawals(&mut w.core, &mut w.dd, c)
    }),
    ("vandar-subscription", "cancel_withdrawal", |w, c| {
        dd::cancel_withdrawal(&mut w.dd, c)
    }),
    ("vandar-core", "create_customer", |w, c| {
        business::create_customer(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "list_customers", |w, c| {
        business::list_customers(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "get_customer", |w, c| {
        business::get_customer(&mut w.biz, c)
    }),
    ("vandar-core", "update_customer", |w, c| {
        business::update_customer(&mut w.biz, c)
    }),
    ("vandar-core", "delete_customer", |w, c| {
        business::delete_customer(&mut w.biz, c)
    }),
    ("vandar-core", "get_customer_wallet", |w, c| {
        business::customer_wallet(&mut w.biz, c)
    }),
    ("vandar-core", "deposit_customer_wallet", |w, c| {
        business::wallet_movement(&mut w.core, &mut w.biz, c, true)
    }),
    ("vandar-core", "withdraw_customer_wallet", |w, c| {
        business::wallet_movement(&mut w.core, &mut w.biz, c, false)
    }),
    ("vandar-core", "list_customer_transactions", |w, c| {
        business::customer_transactions(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "get_cash_in_account_balance", |w, c| {
        business::cash_in_balance(&mut w.biz, c)
    }),
    ("vandar-core", "deposit_cash_in", |w, c| {
        business::deposit_cash_in(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "store_batch_settlement", |w, c| {
        business::store_batch(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "list_batches", |w, c| {
        business::list_batches(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "list_batch_settlements", |w, c| {
        business::list_batch_items(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "store_queued_settlement", |w, c| {
        business::store_queued(&mut w.core, &mut w.biz, c)
    }),
    ("vandar-core", "list_queued_settlements", |w, _| {
        business::list_queued(&mut w.biz)
    }),
    ("vandar-core", "get_queued_settlement", |w, c| {
        business::get_queued(&mut w.biz, c)
    }),
    ("vandar-core", "cancel_queued_settlement", |w, c| {
        business::cancel_queued(&mut w.core, &mut w.biz, c)
    }),
];

/// Whether `(spec, operation)` has a flow (an entry in the handler table).
pub(crate) fn is_stateful(spec: &str, operation: &str) -> bool {
    HANDLERS
        .iter()
        .any(|(s, o, _)| *s == spec && *o == operation)
}

/// Run the flow of this operation, if it has one.
pub(crate) fn handle(world: &mut World, call: &Call<'_>) -> Option<Answer> {
    HANDLERS
        .iter()
        .find(|(s, o, _)| *s == call.op.spec && *o == call.op.id)
        .map(|(_, _, handler)| handler(world, call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_names_one_spec_operation() {
        let catalog = crate::spec::Catalog::load().unwrap();
        let mut seen = std::collections::HashSet::new();
        for &(spec, op, _) in HANDLERS {
            assert_eq!(catalog.find(Some(spec), op).len(), 1, "{spec} {op}");
            assert!(seen.insert((spec, op)), "{spec} {op} twice");
            assert!(is_stateful(spec, op));
        }
        assert!(!is_stateful("vandar-core", "list_customer_fields"));
    }
}
