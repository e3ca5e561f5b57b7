//! The fake Vandar of these tests: the runtime's `RotatingVandar` (single-use refresh tokens;
//! generation `n` is the pair `acc-n-SECRET` / `ref-n-SECRET`; each refresh can be switched to
//! answer 500, to rotate and drop the answer, or to rotate and answer late), plus the route the
//! replicas call and the account their keys derive from.

// Each test binary compiles `common`; the ones without the fake use none of these (as
// `dead_code` is allowed in `common` for the same reason).
#[allow(unused_imports)]
pub use vandar_runtime::test_util::{
    EXPIRES_IN, RefreshMode as Mode, RotatingVandar as FakeVandar, access, refresh,
};

/// `GET /v3/business/shop/balance` with the Vandar bearer token: the call the replicas make.
pub const GET_BALANCE: vandar_runtime::Route = vandar_runtime::Route {
    operation_id: "get_balance",
    method: "GET",
    host: "https://api.vandar.io",
    path: "/v3/business/shop/balance",
    segments: &[
        vandar_runtime::Segment::Lit("v3"),
        vandar_runtime::Segment::Lit("business"),
        vandar_runtime::Segment::Lit("shop"),
        vandar_runtime::Segment::Lit("balance"),
    ],
    auth: vandar_runtime::Auth::Bearer("bearer"),
    api_key_field: None,
    idempotent: true,
    checks: &[],
};

/// The account the tests' keys derive from.
pub fn account() -> vandar_redis::Account {
    vandar_redis::Account::production("shop").unwrap()
}
