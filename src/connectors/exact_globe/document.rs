//! Header/line documents (sales orders, invoices, financial entries) with the protocol the
//! Entity Services impose: the first line is created without a `TransactionKey` and its
//! answer carries a new one; the other lines carry that key; then the header with the key
//! validates and commits the whole document. A failed header leaves the lines staged on the
//! server, so the client deletes them (or says which it could not delete). A header whose
//! answer is lost is looked up by its match key before it is ever sent again; a line whose
//! answer is lost is looked for among the lines staged under the key before it is resent.
//!
//! The engine makes the TransactionKey itself and journals it before the first line (the
//! Portway variant, which the service accepts): then every line staged under it can be found
//! and deleted again, even after a crash or when the first line's answer is lost.

use serde_json::Value;

use super::client::{canonical_name, CallError, ExactGlobeClient};
use crate::connectors::{ConnectorError, MatchKey, Record, System};

const SYSTEM: System = System::ExactGlobe;
const TRANSACTION_KEY: &str = "TransactionKey";

/// Lines staged so far under one TransactionKey.
struct Staged<'a> {
    header_entity: &'a str,
    line_entity: &'a str,
    transaction_key: String,
    line_ids: Vec<Value>,
    /// Lines that were staged but whose ID the answer did not carry.
    untracked: usize,
    /// The caller made the key: lines are found by it, not only by the IDs answered.
    client_key: bool,
}

/// What became of a line whose answer was lost.
enum LostLine {
    /// It is staged: here it is as stored.
    Staged(Record),
    /// It is not: send it again.
    NotStaged,
    /// Cannot tell.
    Unknown,
}

impl Staged<'_> {
    /// Reads the lines staged under the key: exactly one more than the client knows means
    /// the lost line was staged; exactly as many means it was not. Anything else (or a
    /// service that does not list staged lines) cannot be told apart.
    async fn find_lost_line(
        &self,
        client: &ExactGlobeClient,
        tk_field: &str,
        id_field: &str,
    ) -> LostLine {
        let key = Value::String(self.transaction_key.clone());
        let Ok(lines) = client
            .lookup_records(self.line_entity, tk_field, &[key], &[])
            .await
        else {
            return LostLine::Unknown;
        };
        if self.untracked > 0 || lines.len() < self.line_ids.len() {
            return LostLine::Unknown;
        }
        let known = |l: &Record| {
            l.get(id_field)
                .is_some_and(|id| self.line_ids.iter().any(|k| same_key(k, id)))
        };
        if !self.line_ids.is_empty()
            && lines.iter().filter(|l| known(l)).count() != self.line_ids.len()
        {
            return LostLine::Unknown;
        }
        let mut new: Vec<Record> = lines.into_iter().filter(|l| !known(l)).collect();
        match new.len() {
            0 => LostLine::NotStaged,
            1 => new.pop().map_or(LostLine::Unknown, LostLine::Staged),
            _ => LostLine::Unknown,
        }
    }

    /// Deletes every staged line; returns what could not be deleted, if anything.
    async fn clean_up(&self, client: &ExactGlobeClient) -> Result<usize, String> {
        if self.client_key {
            // Listing by the key also finds lines whose answer was lost or carried no ID.
            return discard_staged(
                client,
                self.header_entity,
                self.line_entity,
                &self.transaction_key,
            )
            .await
            .map_err(|e| {
                format!(
                    "staged lines under TransactionKey {} were left behind ({e}); the next run deletes them",
                    self.transaction_key
                )
            });
        }
        let mut failed = Vec::new();
        for id in &self.line_ids {
            if let Err(e) = client.delete(self.line_entity, id).await {
                failed.push(format!("{id} ({e})"));
            }
        }
        if failed.is_empty() && self.untracked == 0 {
            return Ok(self.line_ids.len());
        }
        let mut report = format!(
            "staged {} lines under TransactionKey {} were left behind",
            failed.len() + self.untracked,
            self.transaction_key
        );
        if !failed.is_empty() {
            report.push_str(&format!(": could not delete {}", failed.join(", ")));
        }
        if self.untracked > 0 {
            report.push_str(&format!("; {} line answers carried no ID", self.untracked));
        }
        Err(report)
    }

    /// The error for a document that failed with `error` after lines were staged: the
    /// lines are deleted first; a refusal stays a refusal when they are all gone.
    async fn fail(&self, client: &ExactGlobeClient, error: ConnectorError) -> ConnectorError {
        match self.clean_up(client).await {
            Ok(removed) => match error {
                ConnectorError::Refused {
                    system,
                    status,
                    message,
                } => ConnectorError::Refused {
                    system,
                    status,
                    message: format!("{message} (the {removed} staged lines were deleted)"),
                },
                other => other,
            },
            Err(report) => ConnectorError::PartialDocument {
                system: SYSTEM,
                message: format!("{error}; {report}"),
            },
        }
    }
}

/// Deletes the lines staged under `transaction_key`, unless a header committed them (booked
/// lines are never touched); returns how many were deleted.
pub(crate) async fn discard_staged(
    client: &ExactGlobeClient,
    header_entity: &str,
    line_entity: &str,
    transaction_key: &str,
) -> Result<usize, ConnectorError> {
    let (line_name, line_def) = ExactGlobeClient::resolve(line_entity)?;
    let (header_name, header_def) = ExactGlobeClient::resolve(header_entity)?;
    let key = [Value::String(transaction_key.to_string())];
    let tk_header = canonical_name(header_def, TRANSACTION_KEY);
    if !client
        .lookup_records(&header_name, &tk_header, &key, &[])
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let id_field = line_def.map_or_else(|| "ID".to_string(), |d| d.key.clone());
    let tk_line = canonical_name(line_def, TRANSACTION_KEY);
    let staged = client
        .lookup_records(&line_name, &tk_line, &key, &[])
        .await?;
    for line in &staged {
        let Some(id) = line.get(&id_field).filter(|v| !v.is_null()) else {
            return Err(ConnectorError::Protocol {
                system: SYSTEM,
                message: format!(
                    "a {line_name} staged under TransactionKey {transaction_key} carries no {id_field}"
                ),
            });
        };
        client.delete(&line_name, id).await?;
    }
    if !staged.is_empty() {
        tracing::info!(system = "exact_globe", entity = %line_name, transaction_key, "deleted {} staged lines", staged.len());
    }
    Ok(staged.len())
}

/// Writes `header` with `lines` as one document; see the module comment. With
/// `transaction_key`, every line is staged under that client-made key.
pub(crate) async fn create_document(
    client: &ExactGlobeClient,
    header_entity: &str,
    header: &Record,
    line_entity: &str,
    lines: &[Record],
    match_key: Option<&MatchKey>,
    transaction_key: Option<&str>,
) -> Result<Record, ConnectorError> {
    let (line_name, line_def) = ExactGlobeClient::resolve(line_entity)?;
    let (header_name, header_def) = ExactGlobeClient::resolve(header_entity)?;
    if lines.is_empty() {
        return Err(ConnectorError::Refused {
            system: SYSTEM,
            status: 400,
            message: format!("not sent: a {header_name} needs at least one {line_name}"),
        });
    }
    let line_key_prop = line_def.map_or_else(|| "ID".to_string(), |d| d.key.clone());
    let tk_line = canonical_name(line_def, TRANSACTION_KEY);
    let tk_header = canonical_name(header_def, TRANSACTION_KEY);

    let mut staged: Option<Staged> = transaction_key.map(|tk| Staged {
        header_entity: &header_name,
        line_entity: &line_name,
        transaction_key: tk.to_string(),
        line_ids: Vec::new(),
        untracked: 0,
        client_key: true,
    });
    for (index, line) in lines.iter().enumerate() {
        let mut line = without_key(line, &tk_line);
        if let Some(s) = &staged {
            line.insert(tk_line.clone(), Value::String(s.transaction_key.clone()));
        }
        let position = format!("line {} of {}", index + 1, lines.len());
        let mut tries = 0;
        let stored = loop {
            tries += 1;
            let lost = match client.post(&line_name, &line).await {
                Ok(stored) => break stored,
                Err(CallError::Failed(e)) => {
                    let e = with_context(e, &position);
                    return Err(match &staged {
                        Some(s) => s.fail(client, e).await,
                        None => e,
                    });
                }
                Err(CallError::Lost(m)) => m,
            };
            // Was it staged? Only answerable once the TransactionKey is known, and only
            // where the service lists staged lines; otherwise give up cleanly.
            let found = match &staged {
                Some(s) if tries <= client.config().max_retries => {
                    s.find_lost_line(client, &tk_line, &line_key_prop).await
                }
                _ => LostLine::Unknown,
            };
            match found {
                LostLine::Staged(stored) => break stored,
                LostLine::NotStaged => {
                    tracing::warn!(system = "exact_globe", entity = %line_name, "line answer lost and not staged: sending it again");
                    tokio::time::sleep(client.config().retry_delay).await;
                }
                LostLine::Unknown => {
                    let note = match &staged {
                        Some(s) => match s.clean_up(client).await {
                            Ok(n) => format!("the {n} lines staged before it were deleted"),
                            Err(report) => report,
                        },
                        None => "its TransactionKey is unknown".to_string(),
                    };
                    return Err(ConnectorError::PartialDocument {
                        system: SYSTEM,
                        message: format!(
                            "no answer to {position} ({lost}); it may be staged on the server; {note}"
                        ),
                    });
                }
            }
        };
        let id = stored.get(&line_key_prop).cloned().filter(|v| !v.is_null());
        if let (Some(s), Some(answered)) = (&staged, stored.get(&tk_line)) {
            if s.client_key && !same_key(answered, &Value::String(s.transaction_key.clone())) {
                // A service that assigns its own key would scatter the lines over two keys.
                let e = ConnectorError::Protocol {
                    system: SYSTEM,
                    message: format!(
                        "{line_name} staged under {answered} instead of the TransactionKey sent ({})",
                        s.transaction_key
                    ),
                };
                return Err(s.fail(client, e).await);
            }
        }
        match &mut staged {
            Some(s) => match id {
                Some(id) => s.line_ids.push(id),
                None => s.untracked += 1,
            },
            None => {
                let Some(key) = stored
                    .get(&tk_line)
                    .and_then(Value::as_str)
                    .filter(|k| !k.is_empty())
                else {
                    let e = ConnectorError::Protocol {
                        system: SYSTEM,
                        message: format!(
                            "the answer to the first {line_name} carries no {tk_line}"
                        ),
                    };
                    // Without the key the line cannot be committed; remove it.
                    if let Some(id) = id {
                        let lost = Staged {
                            header_entity: &header_name,
                            line_entity: &line_name,
                            transaction_key: "?".into(),
                            line_ids: vec![id],
                            untracked: 0,
                            client_key: false,
                        };
                        return Err(lost.fail(client, e).await);
                    }
                    return Err(e);
                };
                staged = Some(Staged {
                    header_entity: &header_name,
                    line_entity: &line_name,
                    transaction_key: key.to_string(),
                    line_ids: id.into_iter().collect(),
                    untracked: usize::from(stored.get(&line_key_prop).is_none_or(Value::is_null)),
                    client_key: false,
                });
            }
        }
    }
    let Some(staged) = staged else {
        return Err(ConnectorError::Protocol {
            system: SYSTEM,
            message: "no line was staged".into(),
        });
    };

    let mut head = without_key(header, &tk_header);
    head.insert(
        tk_header.clone(),
        Value::String(staged.transaction_key.clone()),
    );
    let max_tries = client.config().max_retries + 1;
    let mut tries = 0;
    loop {
        tries += 1;
        match client.post(&header_name, &head).await {
            Ok(stored) => return Ok(stored),
            Err(CallError::Failed(e)) => return Err(staged.fail(client, e).await),
            Err(CallError::Lost(m)) => {
                // An unknown outcome is not the record's fault: `Unavailable` stops the run
                // and keeps the engine's journal entry open for the next run to resolve.
                let Some(key) = match_key else {
                    return Err(ConnectorError::Unavailable {
                        system: SYSTEM,
                        message: format!(
                            "no answer to the {header_name} ({m}): it may have been committed; without a \
                             match key it is not sent again; its lines are staged under TransactionKey {}",
                            staged.transaction_key
                        ),
                    });
                };
                // Committed after all? Then it is done: never a second order.
                if let Some(found) = client.find_one(&header_name, key).await? {
                    tracing::info!(system = "exact_globe", entity = %header_name, "lost answer resolved: the header was committed");
                    return Ok(found);
                }
                if tries >= max_tries {
                    // Not deleting the lines: a header still being processed would lose them.
                    return Err(ConnectorError::Unavailable {
                        system: SYSTEM,
                        message: format!(
                            "no answer to the {header_name} after {tries} tries ({m}); not found by {} \
                             yet; its lines are staged under TransactionKey {}",
                            key.field, staged.transaction_key
                        ),
                    });
                }
                tracing::warn!(system = "exact_globe", entity = %header_name, "header answer lost and not found: sending it again");
                tokio::time::sleep(client.config().retry_delay).await;
            }
        }
    }
}

/// Whether two key values name the same record (GUIDs compare without case or braces).
fn same_key(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => {
            let norm = |s: &str| {
                s.trim()
                    .trim_matches(|c| c == '{' || c == '}')
                    .to_ascii_lowercase()
            };
            norm(a) == norm(b)
        }
        _ => a == b,
    }
}

/// `record` without any `TransactionKey` the caller put in: the protocol assigns it.
fn without_key(record: &Record, key: &str) -> Record {
    record
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case(key))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

fn with_context(error: ConnectorError, position: &str) -> ConnectorError {
    match error {
        ConnectorError::Refused {
            system,
            status,
            message,
        } => ConnectorError::Refused {
            system,
            status,
            message: format!("{position}: {message}"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_compare_like_guids() {
        assert!(same_key(
            &json!("{6F9619FF-8B86-D011-B42D-00C04FC964FF}"),
            &json!("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        ));
        assert!(!same_key(&json!("a"), &json!("b")));
        assert!(same_key(&json!(7), &json!(7)));
    }

    #[test]
    fn caller_transaction_keys_are_dropped() {
        let line = json!({"transactionkey": "x", "Itemcode": "A"})
            .as_object()
            .cloned()
            .unwrap();
        let out = without_key(&line, "TransactionKey");
        assert_eq!(out.len(), 1);
        assert!(out.contains_key("Itemcode"));
    }

    #[test]
    fn refusals_name_the_line() {
        let e = ConnectorError::Refused {
            system: SYSTEM,
            status: 400,
            message: "Item 'X' does not exist".into(),
        };
        let e = with_context(e, "line 2 of 3");
        assert_eq!(
            e.to_string(),
            "exact_globe refused the request (400): line 2 of 3: Item 'X' does not exist"
        );
    }
}
