//! Growth captured live: the leaky Go service is loaded for three rounds and then left
//! alone for three, with a snapshot fetched by goroscope after every round (debug=0 and
//! debug=2 alternating, so sites must meet across formats). While the load runs the leak
//! sites grow; once it stops they are no longer reported as growing, and the steady sites
//! are never suspects.

mod support;

use serde_json::Value;
use support::{goroscope, Service, ServiceOptions};

const GO: &str = "1.27.3";

fn site<'a>(trend: &'a Value, truth: &Value) -> &'a Value {
    let line = truth["line"].as_u64().unwrap();
    let file = truth["file"].as_str().unwrap();
    trend["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"]["line"].as_u64() == Some(line) && s["site"]["file"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no site {file}:{line} in the trend"))
}

#[test]
fn growth_stops_being_reported_when_the_load_stops() {
    let s = Service::start(GO, ServiceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut truths = Vec::new();
    for round in 1..=6 {
        if round <= 3 {
            s.get("/leak/sender?n=3");
            s.get("/leak/receiver?n=2");
        }
        truths.push(s.stats());
        let (name, debug) =
            if round % 2 == 1 { (format!("snap-{round}.pb.gz"), "0") } else { (format!("snap-{round}.txt"), "2") };
        let path = dir.path().join(&name).to_string_lossy().into_owned();
        let run = goroscope(&["fetch", "--debug", debug, &s.url, "-o", &path]);
        assert_eq!(run.code, 0, "fetch: {}", run.stderr);
        files.push(path);
    }

    // The first three snapshots: load running.
    let early = goroscope(&["trend", "--json", &files[0], &files[1], &files[2]]).json();
    // All six: the load stopped half-way. The folder is read in name order.
    let all = goroscope(&["trend", "--json", &dir.path().to_string_lossy()]).json();
    assert_eq!(all["snapshots"].as_array().unwrap().len(), 6);

    let truth = &truths[5]["sites"];
    for name in ["forgotten_sender", "forgotten_receiver"] {
        let t = &truth[name];
        let per_round = if name == "forgotten_sender" { 3 } else { 2 };
        let e = site(&early, t);
        assert_eq!(e["counts"], serde_json::json!([per_round, 2 * per_round, 3 * per_round]), "{name}");
        assert_eq!(e["growing"], true, "{name} grows while loaded");
        assert_eq!(e["suspect"], true, "{name}");

        let a = site(&all, t);
        let want: Vec<u64> = (1..=6).map(|r: u64| per_round * r.min(3)).collect();
        assert_eq!(a["counts"], serde_json::json!(want), "{name}: counts match the service's");
        assert_eq!(a["growing"], false, "{name}: growth stopped, so it is not reported as ongoing");
        let reasons = a["reasons"].as_array().unwrap();
        assert!(!reasons.iter().any(|r| r.as_str().unwrap().contains("sustained growth")), "{name}: {reasons:?}");
        for (i, truth) in truths.iter().enumerate() {
            assert_eq!(a["counts"][i], truth["sites"][name]["count"], "{name} round {}", i + 1);
        }
    }
    assert_eq!(site(&all, &truth["forgotten_sender"])["category"], "chan_send");
    for (name, t) in truth.as_object().unwrap() {
        if t["leak"] == false {
            let a = site(&all, t);
            assert_eq!(a["suspect"], false, "steady site {name}: {a}");
            assert_eq!(a["growing"], false, "steady site {name}");
        }
    }
}
