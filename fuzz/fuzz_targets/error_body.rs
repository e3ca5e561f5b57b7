//! Fuzz the error-body decoders: any bytes an API could answer with must become an error value
//! (or be rejected as JSON), never a panic. Covers the runtime's shape-agnostic decoder
//! (`ApiError::from_body`, which every client's error path ends in, plus its Display/Debug) and
//! the generated error schemas' `serde` decoding (IPG and core).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        for status in [200u16, 401, 422, 500] {
            let e = vandar_runtime::ApiError::from_body(status, value.clone());
            let _ = e.to_string();
            let _ = format!("{e:?}");
            let _ = vandar_runtime::Error::from(e).to_string();
        }
    }
    let _ = vandar_ipg::__spec::decode("IpgError", data);
    let _ = vandar_core::__spec::decode("VandarError", data);
});
