//! The invitation lifecycle driven by the official SOLAPI Python SDK (PyPI `solapi` 5.0.3),
//! installed into a virtual environment under `target/` on first use.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::helpers::{TestApp, python_venv};

fn venv_python() -> Option<PathBuf> {
    python_venv(
        "solapi-venv",
        &["solapi==5.0.3"],
        "the official SOLAPI Python SDK test",
    )
}

fn run_sdk(python: &PathBuf, app: &TestApp, args: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/solapi_sdk.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .env("BASE", &app.base)
        .env("KEY", &app.owner.api_key)
        .env("SECRET", &app.owner.api_secret)
        .env("ORG", &app.owner.org_id)
        .output()
        .expect("the SDK script runs");
    assert!(
        out.status.success(),
        "SDK script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_the_invitation_lifecycle() {
    let Some(python) = tokio::task::block_in_place(venv_python) else {
        return;
    };
    let app = TestApp::spawn().await;
    // The blocking subprocess runs off the runtime so the in-process server keeps serving.
    let r = {
        let app = &app;
        tokio::task::block_in_place(|| run_sdk(&python, app, &["lifecycle"]))
    };
    assert!(
        r["header"]
            .as_str()
            .unwrap()
            .starts_with("HMAC-SHA256 ApiKey="),
        "the SDK's capitalised variant: {r}"
    );
    let sent = &r["send"]["ok"];
    assert_eq!(sent["email"], "sdk-invitee@example.com");
    assert_eq!(sent["role"], "DEVELOPER");
    assert_eq!(sent["accountId"], app.owner.org_id.as_str());
    assert_eq!(r["list"]["ok"][0]["invitationId"], sent["invitationId"]);
    assert_eq!(r["cancel"]["ok"]["invitationId"], sent["invitationId"]);
    assert_eq!(
        r["cancel_again"]["error"][0], "InvitationCancelled",
        "the SDK surfaces errorCode: {r}"
    );
    assert_eq!(r["list_after"]["ok"], serde_json::json!([]));
    assert_eq!(r["replay"][0], 200);
    assert_eq!(r["replay"][1], 403);
    assert_eq!(r["replay"][2]["errorCode"], "DuplicatedSignature");

    let token = app
        .token_from_mail("sdk-joiner@example.com", "/invitations/")
        .await;
    let s = {
        let app = &app;
        tokio::task::block_in_place(|| run_sdk(&python, app, &["signup", &token]))
    };
    let account = &s["signup"]["ok"];
    assert_eq!(account["accountId"], app.owner.org_id.as_str(), "{s}");
    assert!(
        account["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "sdk-joiner" && m["role"] == "MEMBER")
    );
    app.stop().await;
}
