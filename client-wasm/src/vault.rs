//! [`Vault`]: encryption at rest on the device (AES-256-GCM under a PIN-wrapped data key).
//!
//! Nothing about a child is written to IndexedDB in plaintext. Every record is sealed with
//! AES-256-GCM under a random 256-bit **data key**; the data key itself is stored only
//! wrapped (also AES-256-GCM) under a **key-encryption key** derived from the worker's PIN
//! or passphrase with Argon2id (19 MiB, 2 passes: slow enough that each guess costs, quick
//! enough to unlock on a tablet). Unlocking therefore works offline, and a wrong PIN is
//! detected by the wrapping's authentication tag, never by comparing anything stored.
//!
//! Each sealed record binds its storage key as associated data, so a ciphertext copied to
//! another key does not open. The module does no IO and takes its randomness as arguments,
//! so it is tested natively.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::ClientError;

/// Bytes of an AES-GCM nonce.
pub const NONCE_BYTES: usize = 12;
/// Bytes of a key.
pub const KEY_BYTES: usize = 32;
/// Bytes of the KDF salt.
pub const SALT_BYTES: usize = 16;
/// The shortest PIN or passphrase accepted.
pub const MIN_PIN_CHARS: usize = 6;

/// Argon2id cost settings, stored beside the wrapped key so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
}

impl Default for KdfParams {
    /// OWASP's Argon2id minimum: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

/// The data key wrapped under the PIN: all that is stored about the key, as JSON
/// `{"version", "kdf": {"memory_kib", "iterations"}, "salt", "nonce", "sealed_key"}`
/// (bytes as arrays of numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Format version.
    pub version: u32,
    /// Argon2id settings used.
    pub kdf: KdfParams,
    /// Argon2id salt.
    pub salt: Vec<u8>,
    /// Nonce of the wrapping.
    pub nonce: Vec<u8>,
    /// The data key sealed under the PIN-derived key.
    pub sealed_key: Vec<u8>,
}

/// Fresh random bytes for [`Vault::create`].
pub struct VaultSeed {
    /// The new data key.
    pub data_key: [u8; KEY_BYTES],
    /// The KDF salt.
    pub salt: [u8; SALT_BYTES],
    /// The wrapping's nonce.
    pub nonce: [u8; NONCE_BYTES],
}

/// An unlocked vault: holds the data key in memory until dropped (locking drops it).
pub struct Vault {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(unlocked)")
    }
}

impl Vault {
    /// Makes a vault with a new data key, wrapped under `pin`.
    ///
    /// # Errors
    /// [`ClientError::PinTooShort`], or [`ClientError::Crypto`] if the KDF fails.
    pub fn create(
        pin: &str,
        seed: &VaultSeed,
        kdf: KdfParams,
    ) -> Result<(Vault, WrappedKey), ClientError> {
        check_pin(pin)?;
        let kek = derive_key(pin, &seed.salt, kdf)?;
        let sealed_key = kek
            .encrypt(Nonce::from_slice(&seed.nonce), seed.data_key.as_slice())
            .map_err(|_| ClientError::Crypto("wrapping the data key failed".into()))?;
        let wrapped = WrappedKey {
            version: 1,
            kdf,
            salt: seed.salt.to_vec(),
            nonce: seed.nonce.to_vec(),
            sealed_key,
        };
        Ok((Vault::from_key(&seed.data_key)?, wrapped))
    }

    /// Unwraps the data key with `pin`.
    ///
    /// # Errors
    /// [`ClientError::WrongPin`] if the PIN does not open the key; [`ClientError::Crypto`]
    /// if the stored key is malformed.
    pub fn unlock(pin: &str, wrapped: &WrappedKey) -> Result<Vault, ClientError> {
        if wrapped.version != 1 || wrapped.nonce.len() != NONCE_BYTES {
            return Err(ClientError::Crypto(
                "the stored key has an unknown format".into(),
            ));
        }
        let kek = derive_key(pin, &wrapped.salt, wrapped.kdf)?;
        let key = kek
            .decrypt(
                Nonce::from_slice(&wrapped.nonce),
                wrapped.sealed_key.as_slice(),
            )
            .map_err(|_| ClientError::WrongPin)?;
        Vault::from_key(&key)
    }

    fn from_key(key: &[u8]) -> Result<Vault, ClientError> {
        Aes256Gcm::new_from_slice(key)
            .map(|cipher| Vault { cipher })
            .map_err(|_| ClientError::Crypto("the data key has the wrong length".into()))
    }

    /// Seals `plaintext` stored under `storage_key`: `nonce ‖ ciphertext+tag`.
    ///
    /// # Errors
    /// [`ClientError::Crypto`] if AES-GCM refuses (input too long).
    pub fn seal(
        &self,
        storage_key: &str,
        plaintext: &[u8],
        nonce: [u8; NONCE_BYTES],
    ) -> Result<Vec<u8>, ClientError> {
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: storage_key.as_bytes(),
                },
            )
            .map_err(|_| ClientError::Crypto("encrypting a record failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`Vault::seal`] wrote under `storage_key`.
    ///
    /// # Errors
    /// [`ClientError::Crypto`] if the record was altered, moved or sealed under another key.
    pub fn open(&self, storage_key: &str, sealed: &[u8]) -> Result<Vec<u8>, ClientError> {
        if sealed.len() < NONCE_BYTES {
            return Err(ClientError::Crypto(format!(
                "record {storage_key} is truncated"
            )));
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: storage_key.as_bytes(),
                },
            )
            .map_err(|_| ClientError::Crypto(format!("record {storage_key} does not decrypt")))
    }
}

/// Checks a new PIN or passphrase.
///
/// # Errors
/// [`ClientError::PinTooShort`].
pub fn check_pin(pin: &str) -> Result<(), ClientError> {
    if pin.chars().count() < MIN_PIN_CHARS {
        return Err(ClientError::PinTooShort);
    }
    Ok(())
}

fn derive_key(pin: &str, salt: &[u8], kdf: KdfParams) -> Result<Aes256Gcm, ClientError> {
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, 1, Some(KEY_BYTES))
        .map_err(|err| ClientError::Crypto(format!("bad key-derivation settings: {err}")))?;
    let mut blocks = vec![argon2::Block::default(); params.block_count()];
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; KEY_BYTES];
    argon
        .hash_password_into_with_memory(pin.as_bytes(), salt, &mut key, &mut blocks)
        .map_err(|err| ClientError::Crypto(format!("deriving the key failed: {err}")))?;
    Aes256Gcm::new_from_slice(&key)
        .map_err(|_| ClientError::Crypto("the derived key has the wrong length".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
    };

    fn seed() -> VaultSeed {
        VaultSeed {
            data_key: [7; KEY_BYTES],
            salt: [1; SALT_BYTES],
            nonce: [2; NONCE_BYTES],
        }
    }

    #[test]
    fn a_record_opens_only_with_the_right_pin_and_key() {
        let (vault, wrapped) = Vault::create("246810", &seed(), CHEAP).expect("create");
        let sealed = vault
            .seal("chunk/a", b"I like my room", [9; NONCE_BYTES])
            .expect("seal");
        assert!(
            !sealed.windows(4).any(|w| w == b"room"),
            "no plaintext in the sealed record"
        );

        let reopened = Vault::unlock("246810", &wrapped).expect("unlock");
        assert_eq!(
            reopened.open("chunk/a", &sealed).expect("open"),
            b"I like my room"
        );
        assert!(matches!(
            Vault::unlock("135790", &wrapped),
            Err(ClientError::WrongPin)
        ));
        assert!(
            reopened.open("chunk/b", &sealed).is_err(),
            "bound to its storage key"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(reopened.open("chunk/a", &tampered).is_err());
        assert!(reopened.open("chunk/a", &sealed[..5]).is_err());
    }

    #[test]
    fn short_pins_are_refused() {
        assert!(matches!(
            Vault::create("12345", &seed(), CHEAP),
            Err(ClientError::PinTooShort)
        ));
    }
}
