//! NTLM (NTLMv2) authentication as the Entity Services' Windows host does it, per connection:
//! NEGOTIATE -> 401 with a CHALLENGE -> AUTHENTICATE, verified against the configured user and
//! password (any domain); the connection then stays authenticated. Raw NTLMSSP tokens are
//! accepted under both the `NTLM` and `Negotiate` schemes (as go-ntlmssp and requests_ntlm send
//! them). MD4 and MD5 are implemented here (RFC 1320/1321) to avoid new dependencies.
//! The `client_*` functions exist for the simulator's own tests; connectors must not use them.

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// The MD4 digest (RFC 1320).
pub fn md4(input: &[u8]) -> [u8; 16] {
    let mut s: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded(input).chunks(64) {
        let x: Vec<u32> = block
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = s;
        let f = |x: u32, y: u32, z: u32| (x & y) | (!x & z);
        let g = |x: u32, y: u32, z: u32| (x & y) | (x & z) | (y & z);
        let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
        for &i in &[0usize, 4, 8, 12] {
            a = a.wrapping_add(f(b, c, d)).wrapping_add(x[i]).rotate_left(3);
            d = d
                .wrapping_add(f(a, b, c))
                .wrapping_add(x[i + 1])
                .rotate_left(7);
            c = c
                .wrapping_add(f(d, a, b))
                .wrapping_add(x[i + 2])
                .rotate_left(11);
            b = b
                .wrapping_add(f(c, d, a))
                .wrapping_add(x[i + 3])
                .rotate_left(19);
        }
        for &i in &[0usize, 1, 2, 3] {
            let k = 0x5a82_7999u32;
            a = a
                .wrapping_add(g(b, c, d))
                .wrapping_add(x[i])
                .wrapping_add(k)
                .rotate_left(3);
            d = d
                .wrapping_add(g(a, b, c))
                .wrapping_add(x[i + 4])
                .wrapping_add(k)
                .rotate_left(5);
            c = c
                .wrapping_add(g(d, a, b))
                .wrapping_add(x[i + 8])
                .wrapping_add(k)
                .rotate_left(9);
            b = b
                .wrapping_add(g(c, d, a))
                .wrapping_add(x[i + 12])
                .wrapping_add(k)
                .rotate_left(13);
        }
        for &i in &[0usize, 2, 1, 3] {
            let k = 0x6ed9_eba1u32;
            a = a
                .wrapping_add(h(b, c, d))
                .wrapping_add(x[i])
                .wrapping_add(k)
                .rotate_left(3);
            d = d
                .wrapping_add(h(a, b, c))
                .wrapping_add(x[i + 8])
                .wrapping_add(k)
                .rotate_left(9);
            c = c
                .wrapping_add(h(d, a, b))
                .wrapping_add(x[i + 4])
                .wrapping_add(k)
                .rotate_left(11);
            b = b
                .wrapping_add(h(c, d, a))
                .wrapping_add(x[i + 12])
                .wrapping_add(k)
                .rotate_left(15);
        }
        s = [
            s[0].wrapping_add(a),
            s[1].wrapping_add(b),
            s[2].wrapping_add(c),
            s[3].wrapping_add(d),
        ];
    }
    words_le(&s)
}

/// The MD5 digest (RFC 1321).
pub fn md5(input: &[u8]) -> [u8; 16] {
    const R: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut s: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded(input).chunks(64) {
        let m: Vec<u32> = block
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = s;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let t = d;
            d = c;
            c = b;
            b = b.wrapping_add(
                a.wrapping_add(f)
                    .wrapping_add(k[i])
                    .wrapping_add(m[g])
                    .rotate_left(R[i]),
            );
            a = t;
        }
        s = [
            s[0].wrapping_add(a),
            s[1].wrapping_add(b),
            s[2].wrapping_add(c),
            s[3].wrapping_add(d),
        ];
    }
    words_le(&s)
}

/// The message padded to whole 64-byte blocks, with its bit length (little-endian) at the end.
fn padded(input: &[u8]) -> Vec<u8> {
    let mut m = input.to_vec();
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&((input.len() as u64).wrapping_mul(8)).to_le_bytes());
    m
}

fn words_le(s: &[u32; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, w) in s.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
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

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// NTOWFv2: HMAC-MD5(MD4(password), UPPER(user) + domain), all UTF-16LE.
pub fn ntowf_v2(user: &str, password: &str, domain: &str) -> [u8; 16] {
    let nt = md4(&utf16(password));
    hmac_md5(&nt, &utf16(&format!("{}{domain}", user.to_uppercase())))
}

/// The message type of an NTLMSSP token (1 negotiate, 2 challenge, 3 authenticate).
pub fn message_type(token: &[u8]) -> Option<u32> {
    if token.len() < 12 || &token[..8] != SIGNATURE {
        return None;
    }
    Some(u32::from_le_bytes([
        token[8], token[9], token[10], token[11],
    ]))
}

/// The CHALLENGE message for `challenge`, naming `domain` (NTLMv2 needs the target info).
pub fn challenge_message(challenge: [u8; 8], domain: &str) -> Vec<u8> {
    let name = utf16(domain);
    let mut info = Vec::new();
    for (id, value) in [(2u16, &name), (1u16, &utf16("GLOBESRV"))] {
        info.extend_from_slice(&id.to_le_bytes());
        info.extend_from_slice(&(value.len() as u16).to_le_bytes());
        info.extend_from_slice(value);
    }
    info.extend_from_slice(&[0, 0, 0, 0]);
    let header = 48u32;
    let name_off = header;
    let info_off = header + name.len() as u32;
    // Unicode, request target, NTLM, target info, extended session security.
    let flags: u32 =
        0x0000_0001 | 0x0000_0004 | 0x0000_0200 | 0x0080_0000 | 0x0008_0000 | 0x0001_0000;
    let mut m = Vec::new();
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&(name.len() as u16).to_le_bytes());
    m.extend_from_slice(&(name.len() as u16).to_le_bytes());
    m.extend_from_slice(&name_off.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&challenge);
    m.extend_from_slice(&[0u8; 8]);
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&info_off.to_le_bytes());
    m.extend_from_slice(&name);
    m.extend_from_slice(&info);
    m
}

/// What an AUTHENTICATE message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// NtChallengeResponse (NTProofStr + blob for NTLMv2).
    pub nt_response: Vec<u8>,
    /// Domain, as sent.
    pub domain: String,
    /// User name, as sent.
    pub user: String,
}

fn field(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16::from_le_bytes([*m.get(at)?, *m.get(at + 1)?]) as usize;
    let off = u32::from_le_bytes([
        *m.get(at + 4)?,
        *m.get(at + 5)?,
        *m.get(at + 6)?,
        *m.get(at + 7)?,
    ]) as usize;
    m.get(off..off.checked_add(len)?)
}

fn text16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Parses an AUTHENTICATE message (Unicode strings assumed, as every modern client sends).
pub fn parse_authenticate(m: &[u8]) -> Option<Authenticate> {
    if message_type(m)? != 3 {
        return None;
    }
    Some(Authenticate {
        nt_response: field(m, 20)?.to_vec(),
        domain: text16(field(m, 28)?),
        user: text16(field(m, 36)?),
    })
}

/// True when the NTLMv2 response proves knowledge of `password` for the challenge.
pub fn verify_v2(auth: &Authenticate, password: &str, challenge: [u8; 8]) -> bool {
    if auth.nt_response.len() <= 24 {
        return false; // NTLMv1 responses are refused, as hardened Windows servers do.
    }
    let (proof, blob) = auth.nt_response.split_at(16);
    let key = ntowf_v2(&auth.user, password, &auth.domain);
    let data: Vec<u8> = challenge
        .iter()
        .copied()
        .chain(blob.iter().copied())
        .collect();
    let expected = hmac_md5(&key, &data);
    // Constant-time comparison.
    expected
        .iter()
        .zip(proof)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Test helper: a NEGOTIATE message.
pub fn client_negotiate() -> Vec<u8> {
    let mut m = SIGNATURE.to_vec();
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&(0x0000_0001u32 | 0x0000_0200 | 0x0008_0000).to_le_bytes());
    m.extend_from_slice(&[0u8; 16]);
    m
}

/// Test helper: the AUTHENTICATE answer to a CHALLENGE, for `domain\user` with `password`.
pub fn client_authenticate(
    challenge_msg: &[u8],
    domain: &str,
    user: &str,
    password: &str,
    client_challenge: [u8; 8],
) -> Option<Vec<u8>> {
    if message_type(challenge_msg)? != 2 {
        return None;
    }
    let challenge: [u8; 8] = challenge_msg.get(24..32)?.try_into().ok()?;
    let info = field(challenge_msg, 40)?;
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&[0u8; 8]); // timestamp
    blob.extend_from_slice(&client_challenge);
    blob.extend_from_slice(&[0u8; 4]);
    blob.extend_from_slice(info);
    blob.extend_from_slice(&[0u8; 4]);
    let key = ntowf_v2(user, password, domain);
    let data: Vec<u8> = challenge
        .iter()
        .copied()
        .chain(blob.iter().copied())
        .collect();
    let mut nt = hmac_md5(&key, &data).to_vec();
    nt.extend_from_slice(&blob);
    let (d, u, w) = (utf16(domain), utf16(user), utf16("CLIENT"));
    let lm = [0u8; 24];
    let mut payload: Vec<(usize, &[u8])> = Vec::new();
    let mut off = 64usize;
    for part in [&lm[..], &nt[..], &d[..], &u[..], &w[..], &[][..]] {
        payload.push((off, part));
        off += part.len();
    }
    let mut m = SIGNATURE.to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    for (o, part) in &payload {
        m.extend_from_slice(&(part.len() as u16).to_le_bytes());
        m.extend_from_slice(&(part.len() as u16).to_le_bytes());
        m.extend_from_slice(&(*o as u32).to_le_bytes());
    }
    m.extend_from_slice(&(0x0000_0001u32 | 0x0000_0200 | 0x0008_0000).to_le_bytes());
    for (_, part) in &payload {
        m.extend_from_slice(part);
    }
    Some(m)
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
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hex(&md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        assert_eq!(
            hex(&hmac_md5(
                b"key",
                b"The quick brown fox jumps over the lazy dog"
            )),
            "80070713463e7749b90c2dc24911e275"
        );
    }

    #[test]
    fn ntowf_v2_matches_ms_nlmp() {
        // MS-NLMP 4.2.4.1.1: User "User", UserDom "Domain", Passwd "Password".
        assert_eq!(
            hex(&md4(&utf16("Password"))),
            "a4f49c406510bdcab6824ee7c30fd852"
        );
        assert_eq!(
            hex(&ntowf_v2("User", "Password", "Domain")),
            "0c868a403bfd7a93a3001ef22ef02e3f"
        );
        // 4.2.4.2.2: NTProofStr for server challenge 0123456789abcdef, client challenge aa..aa.
        let mut temp = vec![1, 1, 0, 0, 0, 0, 0, 0];
        temp.extend_from_slice(&[0u8; 8]);
        temp.extend_from_slice(&[0xaa; 8]);
        temp.extend_from_slice(&[0u8; 4]);
        for (id, v) in [(2u16, "Domain"), (1u16, "Server")] {
            temp.extend_from_slice(&id.to_le_bytes());
            temp.extend_from_slice(&(utf16(v).len() as u16).to_le_bytes());
            temp.extend_from_slice(&utf16(v));
        }
        temp.extend_from_slice(&[0u8; 8]);
        let mut data = vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        data.extend_from_slice(&temp);
        assert_eq!(
            hex(&hmac_md5(&ntowf_v2("User", "Password", "Domain"), &data)),
            "68cd0ab851e51c96aabc927bebef6a1c"
        );
    }

    #[test]
    fn handshake_verifies_the_password() {
        let challenge = [1, 2, 3, 4, 5, 6, 7, 8];
        let c = challenge_message(challenge, "EXACT");
        let good = client_authenticate(&c, "EXACT", "exflow", "exflow", [9; 8]).unwrap();
        let auth = parse_authenticate(&good).unwrap();
        assert_eq!(
            (auth.user.as_str(), auth.domain.as_str()),
            ("exflow", "EXACT")
        );
        assert!(verify_v2(&auth, "exflow", challenge));
        assert!(!verify_v2(&auth, "wrong", challenge));
        assert!(!verify_v2(&auth, "exflow", [0; 8]));
        assert_eq!(message_type(&client_negotiate()), Some(1));
        assert!(parse_authenticate(b"NTLMSSP\0\x03\0\0\0garbage").is_none());
    }
}
