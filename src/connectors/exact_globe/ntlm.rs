//! NTLMv2 client messages (MS-NLMP) for the Entity Services' Windows authentication: the
//! NEGOTIATE message, the CHALLENGE read back, and the AUTHENTICATE answer with an NTLMv2
//! response. No signing or sealing: HTTP only needs the handshake. MD4, MD5 and HMAC-MD5 are
//! written out here because nothing else in exflow needs them.

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_OEM: u32 = 0x0000_0002;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

const NEGOTIATE_FLAGS: u32 = NEGOTIATE_UNICODE
    | NEGOTIATE_OEM
    | REQUEST_TARGET
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_128
    | NEGOTIATE_56;

const AUTHENTICATE_FLAGS: u32 = NEGOTIATE_UNICODE
    | REQUEST_TARGET
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_TARGET_INFO
    | NEGOTIATE_128
    | NEGOTIATE_56;

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

/// The NEGOTIATE message (type 1).
pub fn negotiate() -> Vec<u8> {
    let mut m = SIGNATURE.to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&NEGOTIATE_FLAGS.to_le_bytes());
    m.extend_from_slice(&[0u8; 16]); // no domain, no workstation
    m
}

/// What the server's CHALLENGE message (type 2) carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// The target information (AV pairs), echoed in the NTLMv2 blob.
    pub target_info: Vec<u8>,
}

fn u16_at(m: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(m.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(m: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(m.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a CHALLENGE message; `None` when it is not one.
pub fn parse_challenge(m: &[u8]) -> Option<Challenge> {
    if m.get(..8)? != SIGNATURE || u32_at(m, 8)? != 2 {
        return None;
    }
    let server_challenge: [u8; 8] = m.get(24..32)?.try_into().ok()?;
    let target_info = match (u16_at(m, 40), u32_at(m, 44)) {
        (Some(len), Some(offset)) if len > 0 => {
            let start = offset as usize;
            m.get(start..start + len as usize)?.to_vec()
        }
        _ => Vec::new(),
    };
    Some(Challenge {
        server_challenge,
        target_info,
    })
}

/// The `MsvAvTimestamp` AV pair of the target information, if the server sent one.
fn av_timestamp(target_info: &[u8]) -> Option<[u8; 8]> {
    let mut at = 0;
    while at + 4 <= target_info.len() {
        let id = u16_at(target_info, at)?;
        let len = u16_at(target_info, at + 2)? as usize;
        if id == 0 {
            return None;
        }
        if id == 7 && len == 8 {
            return target_info.get(at + 4..at + 12)?.try_into().ok();
        }
        at += 4 + len;
    }
    None
}

/// `DOMAIN\user` split into domain and user; a plain name or a UPN has no domain part.
pub fn split_user(user: &str) -> (&str, &str) {
    match user.split_once('\\') {
        Some((domain, name)) => (domain, name),
        None => ("", user),
    }
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// NTOWFv2: HMAC-MD5 of the upper-cased user and the domain, keyed by the NT hash.
pub fn ntowf_v2(user: &str, password: &str, domain: &str) -> [u8; 16] {
    let nt_hash = md4(&utf16(password));
    hmac_md5(
        &nt_hash,
        &utf16(&format!("{}{domain}", user.to_uppercase())),
    )
}

/// The AUTHENTICATE message (type 3) answering `challenge` for `user` (`DOMAIN\user`).
/// `client_challenge` and `now` (FILETIME) are parameters so tests can fix them.
pub fn authenticate(
    challenge: &Challenge,
    user: &str,
    password: &str,
    client_challenge: [u8; 8],
    now: [u8; 8],
) -> Vec<u8> {
    let (domain, name) = split_user(user);
    let key = ntowf_v2(name, password, domain);
    let timestamp = av_timestamp(&challenge.target_info).unwrap_or(now);

    let mut blob = vec![1u8, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&timestamp);
    blob.extend_from_slice(&client_challenge);
    blob.extend_from_slice(&[0u8; 4]);
    blob.extend_from_slice(&challenge.target_info);
    blob.extend_from_slice(&[0u8; 4]);

    let mut data = challenge.server_challenge.to_vec();
    data.extend_from_slice(&blob);
    let mut nt_response = hmac_md5(&key, &data).to_vec();
    nt_response.extend_from_slice(&blob);

    let mut lm_data = challenge.server_challenge.to_vec();
    lm_data.extend_from_slice(&client_challenge);
    let mut lm_response = hmac_md5(&key, &lm_data).to_vec();
    lm_response.extend_from_slice(&client_challenge);

    let domain = utf16(domain);
    let name = utf16(name);
    let workstation: Vec<u8> = Vec::new();
    // Header: signature, type, six security buffers, flags = 64 bytes; the payload follows.
    let mut payload: Vec<u8> = Vec::new();
    let mut fields: Vec<(usize, usize)> = Vec::new();
    for part in [&lm_response, &nt_response, &domain, &name, &workstation] {
        fields.push((part.len(), 64 + payload.len()));
        payload.extend_from_slice(part);
    }
    let mut m = SIGNATURE.to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    for (len, offset) in fields {
        m.extend_from_slice(&(len as u16).to_le_bytes());
        m.extend_from_slice(&(len as u16).to_le_bytes());
        m.extend_from_slice(&(offset as u32).to_le_bytes());
    }
    // No session key.
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&((64 + payload.len()) as u32).to_le_bytes());
    m.extend_from_slice(&AUTHENTICATE_FLAGS.to_le_bytes());
    m.extend_from_slice(&payload);
    m
}

/// The current time as a FILETIME (100 ns ticks since 1601), little-endian.
pub fn filetime_now() -> [u8; 8] {
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ticks = (since_unix.as_secs() + FILETIME_UNIX_OFFSET) * 10_000_000
        + u64::from(since_unix.subsec_nanos() / 100);
    ticks.to_le_bytes()
}

/// Pads a message for MD4/MD5: 0x80, zeros, the bit length (little-endian).
fn md_padded(input: &[u8]) -> Vec<u8> {
    let mut m = input.to_vec();
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&((input.len() as u64).wrapping_mul(8)).to_le_bytes());
    m
}

fn words(block: &[u8]) -> [u32; 16] {
    let mut x = [0u32; 16];
    for (i, w) in x.iter_mut().enumerate() {
        *w = u32::from_le_bytes([
            block[i * 4],
            block[i * 4 + 1],
            block[i * 4 + 2],
            block[i * 4 + 3],
        ]);
    }
    x
}

fn digest(state: [u32; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, w) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

const MD_INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// One MD4 round: its boolean function, additive constant, word order and shifts.
type Md4Round = (fn(u32, u32, u32) -> u32, u32, [usize; 16], [u32; 4]);

/// MD4 (RFC 1320), for the NT hash.
pub fn md4(input: &[u8]) -> [u8; 16] {
    let mut h = MD_INIT;
    for block in md_padded(input).chunks_exact(64) {
        let x = words(block);
        let mut s = h;
        let rounds: [Md4Round; 3] = [
            (
                |x, y, z| (x & y) | (!x & z),
                0,
                [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
                [3, 7, 11, 19],
            ),
            (
                |x, y, z| (x & y) | (x & z) | (y & z),
                0x5a82_7999,
                [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
                [3, 5, 9, 13],
            ),
            (
                |x, y, z| x ^ y ^ z,
                0x6ed9_eba1,
                [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
                [3, 9, 11, 15],
            ),
        ];
        for (f, k, order, shifts) in rounds {
            for (i, &w) in order.iter().enumerate() {
                // The register updated rotates a, d, c, b; the others feed f in order.
                let t = (4 - i % 4) % 4;
                let v = s[t]
                    .wrapping_add(f(s[(t + 1) % 4], s[(t + 2) % 4], s[(t + 3) % 4]))
                    .wrapping_add(x[w])
                    .wrapping_add(k);
                s[t] = v.rotate_left(shifts[i % 4]);
            }
        }
        for i in 0..4 {
            h[i] = h[i].wrapping_add(s[i]);
        }
    }
    digest(h)
}

/// MD5 (RFC 1321), for HMAC-MD5.
pub fn md5(input: &[u8]) -> [u8; 16] {
    const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut h = MD_INIT;
    for block in md_padded(input).chunks_exact(64) {
        let m = words(block);
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(SHIFTS[(i / 16) * 4 + i % 4]));
        }
        h = [
            h[0].wrapping_add(a),
            h[1].wrapping_add(b),
            h[2].wrapping_add(c),
            h[3].wrapping_add(d),
        ];
    }
    digest(h)
}

/// HMAC-MD5 (RFC 2104).
pub fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..16].copy_from_slice(&md5(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = k
        .iter()
        .map(|b| b ^ 0x36)
        .chain(data.iter().copied())
        .collect();
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).chain(md5(&inner)).collect();
    md5(&outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn digests_match_the_rfc_vectors() {
        assert_eq!(hex(&md4(b"")), "31d6cfe0d16ae931b73c59d7e0c089c0");
        assert_eq!(hex(&md4(b"abc")), "a448017aaf21d8525fc10ae87aa6729d");
        assert_eq!(
            hex(&md4(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "e33b4ddc9c38f2199c3e7b164fcc0536"
        );
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(&md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        assert_eq!(
            hex(&hmac_md5(&[0x0b; 16], b"Hi There")),
            "9294727a3638bb1c13f48ef8158bfc9d"
        );
    }

    #[test]
    fn ntlmv2_matches_ms_nlmp_4_2_4() {
        // MS-NLMP 4.2.4: User "User", domain "Domain", password "Password".
        assert_eq!(
            hex(&ntowf_v2("User", "Password", "Domain")),
            "0c868a403bfd7a93a3001ef22ef02e3f"
        );
        // Target info of the spec's CHALLENGE: NbDomainName "Domain", NbComputerName "Server".
        let mut info = vec![2u8, 0, 12, 0];
        info.extend(utf16("Domain"));
        info.extend([1u8, 0, 12, 0]);
        info.extend(utf16("Server"));
        info.extend([0u8, 0, 0, 0]);
        let challenge = Challenge {
            server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            target_info: info,
        };
        let m = authenticate(&challenge, "Domain\\User", "Password", [0xaa; 8], [0; 8]);
        let field = |at: usize| {
            let len = u16::from_le_bytes([m[at], m[at + 1]]) as usize;
            let off = u32::from_le_bytes([m[at + 4], m[at + 5], m[at + 6], m[at + 7]]) as usize;
            m[off..off + len].to_vec()
        };
        assert_eq!(
            hex(&field(12)),
            "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
            "LMv2"
        );
        assert_eq!(
            hex(&field(20)[..16]),
            "68cd0ab851e51c96aabc927bebef6a1c",
            "NTProofStr"
        );
        assert_eq!(field(28), utf16("Domain"));
        assert_eq!(field(36), utf16("User"));
    }

    #[test]
    fn challenges_are_parsed_defensively() {
        assert_eq!(parse_challenge(b"NTLMSSP\0"), None);
        assert_eq!(parse_challenge(&negotiate()), None);
        let mut m = SIGNATURE.to_vec();
        m.extend(2u32.to_le_bytes());
        m.extend([0u8; 12]);
        m.extend([9u8; 8]);
        m.extend([0u8; 8]);
        m.extend([4u8, 0, 4, 0, 48, 0, 0, 0]);
        m.extend([7u8, 0, 0, 0]);
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.server_challenge, [9; 8]);
        assert_eq!(c.target_info, vec![7, 0, 0, 0]);
        m[44] = 200; // target info offset past the end
        assert_eq!(parse_challenge(&m), None);
        assert_eq!(split_user("EXACT\\svc"), ("EXACT", "svc"));
        assert_eq!(split_user("svc"), ("", "svc"));
    }
}
