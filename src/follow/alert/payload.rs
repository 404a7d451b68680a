//! The webhook bodies, all built from the alert's NDJSON object.

use serde_json::{Value, json};

use super::{Alert, WebhookFormat};

/// Runbook steps shown in a Slack message.
const SLACK_STEPS: usize = 3;

/// The body for `format`, encoded (the generic one keeps the NDJSON printer's key order).
pub fn encode(format: WebhookFormat, a: &Alert, routing_key: Option<&str>) -> Vec<u8> {
    match format {
        WebhookFormat::Generic => a.generic_bytes(),
        _ => serde_json::to_vec(&body(format, a, routing_key)).unwrap_or_default(),
    }
}

/// The body for `format` (`routing_key` for PagerDuty).
pub fn body(format: WebhookFormat, a: &Alert, routing_key: Option<&str>) -> Value {
    match format {
        WebhookFormat::Generic => a.generic(),
        WebhookFormat::Slack => slack(a),
        WebhookFormat::Pagerduty => pagerduty(a, routing_key.unwrap_or("")),
    }
}

/// `HIGH: title` or `HIGH: 12 more of title within 5m`.
fn headline(a: &Alert) -> String {
    let sev = a.field("severity").to_uppercase();
    match a.repeats() {
        Some(n) => format!(
            "{sev}: {} more of {} within {}",
            n,
            a.field("title"),
            crate::follow::human_span(std::time::Duration::from_millis(
                a.object["cooldown_ms"].as_u64().unwrap_or(0)
            ))
        ),
        None => format!("{sev}: {}", a.field("title")),
    }
}

/// `service on host`, or what of them is known.
fn who(a: &Alert) -> String {
    match (a.field("service"), a.field("host")) {
        ("", "") => String::new(),
        (s, "") => s.to_string(),
        ("", h) => format!("on {h}"),
        (s, h) => format!("{s} on {h}"),
    }
}

/// The evidence: the event's first lines (a header and the line that matched, usually).
fn evidence(a: &Alert) -> String {
    let text = a.field("text");
    let lines: Vec<&str> = text.lines().take(3).collect();
    cut(&lines.join("\n"), 1200)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Slack's mrkdwn needs only these escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack(a: &Alert) -> Value {
    let head = headline(a);
    let who = who(a);
    let summary = match a.repeats() {
        Some(_) => {
            let mut s = String::from("Repeats counted within the cooldown");
            if let (Some(f), Some(l)) = (
                a.object["first_timestamp"].as_str(),
                a.object["last_timestamp"].as_str(),
            ) {
                s.push_str(&format!(", {f} -> {l}"));
            }
            s
        }
        None => a.field("summary").to_string(),
    };
    let mut text = head.clone();
    if !who.is_empty() {
        text.push_str(&format!(" ({who})"));
    }
    if a.repeats().is_none() && !summary.is_empty() && summary != a.field("title") {
        text.push_str(&format!(": {summary}"));
    }
    let field = |name: &str, v: &str| json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", esc(if v.is_empty() { "-" } else { v }))});
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&head, 150)}}),
        json!({"type": "section", "fields": [
            field("Severity", a.field("severity")),
            field("Host", a.field("host")),
            field("Service", a.field("service")),
            field("Rule", a.field("rule")),
        ]}),
    ];
    if !summary.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&esc(&summary), 2900)}}));
    }
    let (path, line) = match a.repeats() {
        Some(_) => (a.field("last_path"), a.object["last_line"].as_u64()),
        None => (a.field("path"), a.object["line"].as_u64()),
    };
    let ev = evidence(a);
    if !ev.is_empty() || !path.is_empty() {
        let at = match line {
            Some(l) => format!("{path}:{l}"),
            None => path.to_string(),
        };
        let mut t = format!("*Evidence* `{}`", esc(&at));
        if !ev.is_empty() {
            t.push_str(&format!("\n```{}```", esc(&ev)));
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": t}}));
    }
    if !a.runbook.is_empty() {
        let mut t = String::from("*Runbook*");
        for (i, step) in a.runbook.iter().take(SLACK_STEPS).enumerate() {
            t.push_str(&format!("\n{}. {}", i + 1, esc(step)));
        }
        if a.runbook.len() > SLACK_STEPS {
            t.push_str(&format!(
                "\n_({} more steps)_",
                a.runbook.len() - SLACK_STEPS
            ));
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&t, 2900)}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
        "text": format!("logtriage tail | fingerprint {}", a.field("fingerprint"))}]}));
    json!({"text": esc(&text), "blocks": blocks})
}

/// logtriage's severities on PagerDuty's four.
pub fn pagerduty_severity(s: &str) -> &'static str {
    match s {
        "critical" => "critical",
        "high" => "error",
        "medium" => "warning",
        _ => "info",
    }
}

fn pagerduty(a: &Alert, routing_key: &str) -> Value {
    let mut summary = headline(a);
    let who = who(a);
    if !who.is_empty() {
        summary.push_str(&format!(" ({who})"));
    }
    if a.repeats().is_none() {
        let s = a.field("summary");
        if !s.is_empty() && s != a.field("title") {
            summary.push_str(&format!(": {s}"));
        }
    }
    let source = match a.field("host") {
        "" => "logtriage",
        h => h,
    };
    let mut payload = json!({
        "summary": cut(&summary, 1024),
        "source": source,
        "severity": pagerduty_severity(a.field("severity")),
        "class": a.field("rule"),
        "custom_details": a.generic(),
    });
    let m = payload.as_object_mut().expect("an object");
    for (k, from) in [("component", "component"), ("group", "service")] {
        if !a.field(from).is_empty() {
            m.insert(k.into(), a.field(from).into());
        }
    }
    let ts = a
        .object
        .get("timestamp")
        .or_else(|| a.object.get("last_timestamp"))
        .and_then(Value::as_str);
    if let Some(t) = ts {
        m.insert("timestamp".into(), t.into());
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": a.field("fingerprint"),
        "client": "logtriage",
        "payload": payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        let object = json!({"rule": "r.x", "title": "Disk <full>", "severity": "high",
                "service": "datanode", "host": "dn1", "path": "/l/a.log", "line": 7,
                "summary": "Disk full on /data", "text": "ERROR disk\n at x\n at y\n at z",
                "fingerprint": "abc", "component": "hdfs", "timestamp": "2024-03-11T02:14:00Z"});
        let runbook = vec!["one".into(), "two".into(), "three".into(), "four".into()];
        Alert::new(serde_json::to_vec(&object).unwrap(), runbook).unwrap()
    }

    #[test]
    fn slack_has_text_and_blocks() {
        let v = body(WebhookFormat::Slack, &alert(), None);
        assert!(
            v["text"]
                .as_str()
                .unwrap()
                .contains("HIGH: Disk &lt;full&gt;")
        );
        let b = v["blocks"].as_array().unwrap();
        assert_eq!(b[0]["type"], "header");
        let all = serde_json::to_string(b).unwrap();
        assert!(all.contains("Disk &lt;full&gt;") || all.contains("Disk <full>"));
        assert!(all.contains("/l/a.log:7"));
        assert!(all.contains("1 more steps"));
        assert!(!all.contains("at z"));
    }

    #[test]
    fn pagerduty_trigger() {
        let v = body(WebhookFormat::Pagerduty, &alert(), Some("KEY"));
        assert_eq!(v["routing_key"], "KEY");
        assert_eq!(v["event_action"], "trigger");
        assert_eq!(v["dedup_key"], "abc");
        assert_eq!(v["payload"]["severity"], "error");
        assert_eq!(v["payload"]["source"], "dn1");
        assert_eq!(v["payload"]["group"], "datanode");
    }

    #[test]
    fn generic_adds_the_runbook() {
        let v = body(WebhookFormat::Generic, &alert(), None);
        assert_eq!(v["runbook"][3], "four");
        assert_eq!(v["line"], 7);
        let b = encode(WebhookFormat::Generic, &alert(), None);
        let text = String::from_utf8(b).unwrap();
        assert!(
            text.ends_with(r#","runbook":["one","two","three","four"]}"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
