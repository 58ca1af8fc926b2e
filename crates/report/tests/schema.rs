//! The documented JSON schema (`docs/report.schema.json`) is the one the code produces.
//! Regenerate it with `UPDATE_SCHEMA=1 cargo test -p stowaway-report --test schema`.

#[test]
fn documented_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/report.schema.json");
    let generated = stowaway_report::json_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let documented = std::fs::read_to_string(path).unwrap_or_default();
    // Compared as JSON values: the order of keys depends on whether serde_json's
    // `preserve_order` is on, which the rest of the workspace decides.
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    assert!(
        parse(&documented).is_some() && parse(&documented) == parse(&generated),
        "docs/report.schema.json is out of date: run UPDATE_SCHEMA=1 cargo test -p stowaway-report --test schema"
    );
    assert!(generated.contains("\"schema_version\""));
}
