//! Following `__next` links: strictly one page after the other, never in parallel (parallel
//! paging loses and duplicates rows on Exact Online).

use super::client::ExactOnlineClient;
use super::odata::ODataPage;
use crate::connectors::{ConnectorError, Record};

/// Turns a `__next` link into an absolute URL. Exact sends absolute links, and the
/// documentation shows relative ones (`../api/v1/…`); both land on `base`.
pub fn resolve_next(base: &str, current: &str, next: &str) -> Option<String> {
    if next.starts_with("http://") || next.starts_with("https://") {
        return Some(next.to_string());
    }
    if let Some(at) = next.find("api/v1/") {
        return Some(format!("{}/{}", base.trim_end_matches('/'), &next[at..]));
    }
    url::Url::parse(current)
        .ok()?
        .join(next)
        .ok()
        .map(|u| u.to_string())
}

/// Reads a collection a page at a time.
pub struct Pager {
    client: ExactOnlineClient,
    next: Option<String>,
}

impl Pager {
    /// Starts at `url` (absolute).
    pub fn new(client: ExactOnlineClient, url: String) -> Pager {
        Pager {
            client,
            next: Some(url),
        }
    }

    /// The next page's rows, or `None` once the last page was read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Record>>, ConnectorError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let ODataPage { records, next } = self.client.get_page(&url).await?;
        self.next = next;
        Ok(Some(records))
    }

    /// Every remaining row, page after page.
    pub async fn collect_all(mut self) -> Result<Vec<Record>, ConnectorError> {
        let mut all = Vec::new();
        while let Some(rows) = self.next_page().await? {
            all.extend(rows);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_next;

    #[test]
    fn absolute_and_relative_links() {
        let base = "https://start.exactonline.nl";
        let cur = "https://start.exactonline.nl/api/v1/1/crm/Accounts?$filter=x";
        assert_eq!(
            resolve_next(
                base,
                cur,
                "https://other/api/v1/1/crm/Accounts?$skiptoken=a"
            )
            .as_deref(),
            Some("https://other/api/v1/1/crm/Accounts?$skiptoken=a")
        );
        assert_eq!(
            resolve_next(base, cur, "../api/v1/1/crm/Accounts?$skiptoken=a").as_deref(),
            Some("https://start.exactonline.nl/api/v1/1/crm/Accounts?$skiptoken=a")
        );
        assert_eq!(
            resolve_next(base, cur, "Accounts?$skiptoken=b").as_deref(),
            Some("https://start.exactonline.nl/api/v1/1/crm/Accounts?$skiptoken=b")
        );
    }
}
