//! Files the sandbox serves: MP3 recordings and CSV exports.

use serde_json::Value;

/// A valid MPEG-1 Layer III stream of silence: 32 kbit/s, 44.1 kHz, mono,
/// about 38 frames per second (each frame: a 4-byte header, then zeroed
/// side information and main data, which decodes to silence).
pub(crate) fn silent_mp3(seconds: usize) -> Vec<u8> {
    const FRAME_LEN: usize = 104; // 144 * 32000 / 44100, no padding
    let frames = (seconds.max(1) * 38).min(10_000);
    let mut out = Vec::with_capacity(frames * FRAME_LEN);
    for _ in 0..frames {
        out.extend_from_slice(&[0xFF, 0xFB, 0x10, 0xC0]);
        out.resize(out.len() + FRAME_LEN - 4, 0);
    }
    out
}

/// One CSV cell: null is empty, strings are raw, arrays and objects are JSON.
fn cell(v: Option<&Value>) -> String {
    let raw = match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    };
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw
    }
}

/// CSV with a header row, one row per item, the given columns.
pub(crate) fn csv(columns: &[&str], rows: &[Value]) -> String {
    let mut out = columns.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = columns.iter().map(|c| cell(r.get(*c))).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mp3_frames() {
        let m = silent_mp3(1);
        assert_eq!(&m[..4], &[0xFF, 0xFB, 0x10, 0xC0]);
        assert_eq!(m.len() % 104, 0);
        assert_eq!(&m[104..108], &[0xFF, 0xFB, 0x10, 0xC0]);
    }

    #[test]
    fn csv_escapes() {
        let s = csv(
            &["a", "b", "c", "d"],
            &[json!({"a": "x,y", "b": null, "c": ["t"], "d": "say \"hi\""})],
        );
        assert_eq!(s, "a,b,c,d\n\"x,y\",,\"[\"\"t\"\"]\",\"say \"\"hi\"\"\"\n");
    }
}
