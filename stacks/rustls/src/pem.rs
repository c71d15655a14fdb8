//! PEM files (RFC 7468): the blocks of a file as (label, DER bytes).
//! Debian packages no rustls-pemfile, and base64 is a few lines.
//!
//! Needs: the text of a PEM file. Gives: `blocks`, every
//! "-----BEGIN X-----" ... "-----END X-----" block decoded, in order.
//! Never: accepts a block without its END line or with bad base64.

fn sextet(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some((c - b'A') as u32),
        b'a'..=b'z' => Some((c - b'a' + 26) as u32),
        b'0'..=b'9' => Some((c - b'0' + 52) as u32),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let data: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let body = data.iter().position(|&c| c == b'=').map_or(&data[..], |p| &data[..p]);
    if data.len() % 4 != 0 || data.len() - body.len() > 2 || data[body.len()..].iter().any(|&c| c != b'=') {
        return Err("bad base64 length or padding".into());
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for &c in body {
        acc = (acc << 6) | sextet(c).ok_or("bad base64 character")?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

pub fn blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            current = Some((label.to_string(), String::new()));
        } else if let Some(label) = line.strip_prefix("-----END ").and_then(|l| l.strip_suffix("-----")) {
            match current.take() {
                Some((begin, body)) if begin == label => {
                    let der = base64_decode(&body).map_err(|e| format!("{} block: {}", label, e))?;
                    out.push((label.to_string(), der));
                }
                _ => return Err(format!("END {} without its BEGIN", label)),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
        }
    }
    if let Some((label, _)) = current {
        return Err(format!("BEGIN {} without its END", label));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbA==").unwrap(), b"hell");
        assert_eq!(base64_decode("aGVs").unwrap(), b"hel");
        assert!(base64_decode("aGV").is_err());
        assert!(base64_decode("a=Vs").is_err());
        let b = blocks("x\n-----BEGIN A-----\naGVs\nbG8=\n-----END A-----\n").unwrap();
        assert_eq!(b, vec![("A".to_string(), b"hello".to_vec())]);
        assert!(blocks("-----BEGIN A-----\naGVs\n").is_err());
    }
}
