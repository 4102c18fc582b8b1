//! Exact Globe: one `Account` read through the Entity Services, as the dashboard's "Test the
//! connection" does; a failure names the URL it tried and what usually causes it.

use super::Check;
use crate::cli::connect::globe_client;
use crate::connectors::ConnectorError;
use crate::pipeline::Project;

const NAME: &str = "exact_globe.connection";

/// Asks Exact Globe for one debtor.
pub async fn check(project: &Project) -> Check {
    let Some(c) = &project.config.exact_globe else {
        return Check::skip(NAME, "exflow.yaml has no `connections.exact_globe`");
    };
    let client = match globe_client(project) {
        Ok(client) => client,
        Err(e) => {
            return Check::fail(
                NAME,
                e.to_string(),
                "correct connections.exact_globe in exflow.yaml",
            )
        }
    };
    let url = &c.base_url;
    match client.query("Account", None, &[], None, Some(1)).await {
        Ok(_) => Check::ok(
            NAME,
            format!(
                "administration {} on {} at {url} answered (Account, top 1)",
                c.database_name, c.server_name
            ),
        ),
        Err(e) => {
            let fix = match &e {
                ConnectorError::Auth { .. } => format!(
                    "check EXACT_GLOBE_USER and EXACT_GLOBE_PASSWORD (user `{}`): the user must be \
                     an active employee in Globe with rights on administration {}",
                    c.user, c.database_name
                ),
                ConnectorError::Refused { status: 404, .. } => format!(
                    "check connections.exact_globe.base_url and database_name: {url}/services/Exact.Entity.REST.EG/ \
                     must list the Entity Services for administration {}",
                    c.database_name
                ),
                _ => format!(
                    "check that the Exact Entity Services run on the Globe server and that this machine \
                     reaches them (`curl {url}/services/Exact.Entity.REST.EG/` answers 401), or \
                     correct connections.exact_globe.base_url (EXACT_GLOBE_BASE_URL)"
                ),
            };
            Check::fail(NAME, format!("{e} (tried {url})"), fix)
        }
    }
}
