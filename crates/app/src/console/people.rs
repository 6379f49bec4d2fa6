//! People as the console names them where a page would otherwise show an
//! id (the audit log's actors and targets): the name masked, the diary
//! login and the school — the id itself only folded, on request.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use crate::shared::mask_word;
use crate::{AppError, Console};
use store::StoreError;

#[derive(Debug, Clone, Serialize)]
pub struct PersonLabel {
    /// «И****** М**** П*******».
    pub name: String,
    pub login: Option<String>,
    /// The school's name (`None`: a trusted person, who has none).
    pub school: Option<String>,
}

impl Console<'_> {
    /// Labels of the accounts `ids` within `scope` (a school; `None`:
    /// everyone). Ids of no account, or of someone outside the scope, get
    /// none, so a school administrator learns nothing about them.
    pub async fn person_labels(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
        scope: Option<Uuid>,
    ) -> Result<HashMap<Uuid, PersonLabel>, AppError> {
        let mut labels = HashMap::new();
        let mut schools: HashMap<Uuid, String> = HashMap::new();
        for id in ids {
            if labels.contains_key(&id) {
                continue;
            }
            let account = match self.store.get_account(id).await {
                Ok(account) => account,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            if scope.is_some() && account.school_id != scope {
                continue;
            }
            let school = match account.school_id {
                Some(school_id) => Some(match schools.get(&school_id) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self.store.get_school(school_id).await?.name;
                        schools.insert(school_id, name.clone());
                        name
                    }
                }),
                None => None,
            };
            let name = [
                Some(account.surname.as_str()),
                Some(account.given_name.as_str()),
                account.patronymic.as_deref(),
            ]
            .into_iter()
            .flatten()
            .map(mask_word)
            .collect::<Vec<_>>()
            .join(" ");
            labels.insert(
                id,
                PersonLabel {
                    name,
                    login: account.login.clone(),
                    school,
                },
            );
        }
        Ok(labels)
    }
}
