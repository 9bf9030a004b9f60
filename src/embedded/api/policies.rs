//! Policy operations of lakeFS's auth API: `listPolicies`, `createPolicy`, `getPolicy`,
//! `deletePolicy`, `listUserPolicies`, `attachPolicyToUser`, `detachPolicyFromUser`. Statements
//! are lakeFS's (`effect` allow/deny, `action`s such as `fs:ReadObject` or `fs:*`, a `resource`
//! ARN pattern); conditions are not supported.

use super::repos::pagination;
use super::users::page_params;
use crate::embedded::Embedded;
use crate::embedded::authz::{Caller, Permission, action, arn};
use crate::embedded::catalog::policies::valid_policy_id;
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, Query, json_response, read_json, status_response};
use crate::lakefs::auth_dto::{Policy, PolicyList, Statement};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

/// An action name as lakeFS writes them: `*`, or `service:Name` where the name may hold `*`.
fn valid_action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    match a.split_once(':') {
        Some((service, name)) => {
            !service.is_empty()
                && service.bytes().all(|c| c.is_ascii_lowercase())
                && !name.is_empty()
                && name.bytes().all(|c| c.is_ascii_alphabetic() || c == b'*')
        }
        None => false,
    }
}

fn validate_statement(st: &Statement) -> ApiResult<()> {
    if st.effect != "allow" && st.effect != "deny" {
        return Err(ApiError::bad_request(format!("statement effect: invalid value {:?}", st.effect)));
    }
    if st.action.is_empty() {
        return Err(ApiError::bad_request("statement action: at least one action is required"));
    }
    if let Some(bad) = st.action.iter().find(|a| !valid_action(a)) {
        return Err(ApiError::bad_request(format!("statement action: invalid value {bad:?}")));
    }
    if st.resource.is_empty() {
        return Err(ApiError::bad_request("statement resource: required"));
    }
    if st.condition.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(ApiError::NotImplemented("policy conditions are not supported by the embedded server".into()));
    }
    Ok(())
}

/// lakeFS's validation of a policy: a valid id and at least one valid statement.
pub fn validate_policy(p: &Policy) -> ApiResult<()> {
    if !valid_policy_id(&p.id) {
        return Err(ApiError::bad_request(format!("policy id: invalid value: {:?}", p.id)));
    }
    if p.statement.is_empty() {
        return Err(ApiError::bad_request("policy statement: at least one statement is required"));
    }
    p.statement.iter().try_for_each(validate_statement)
}

pub async fn list_policies(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let (policies, more) = s.db(move |m| m.list_policies(&prefix, &after, amount)).await?;
    let page = pagination(policies.len(), more, policies.last().map(|p| p.id.as_str()));
    json_response(StatusCode::OK, &PolicyList { pagination: page, results: policies })
}

pub async fn create_policy(s: &Arc<Embedded>, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let policy: Policy = read_json(req.into_body()).await?;
    validate_policy(&policy)?;
    caller.require(&[Permission::new(action::CREATE_POLICY, arn::policy(&policy.id))])?;
    let created = s.db(move |m| m.create_policy(policy)).await?;
    json_response(StatusCode::CREATED, &created)
}

pub async fn get_policy(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    let policy = s.db(move |m| m.get_policy(&id)).await?;
    json_response(StatusCode::OK, &policy)
}

pub async fn delete_policy(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    s.db(move |m| m.delete_policy(&id)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// `listUserPolicies`; `effective` lists the same policies, as users have no groups here.
pub async fn list_user_policies(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    Query::parse(req.uri().query()).bool("effective", false)?;
    let (prefix, after, amount) = page_params(&req)?;
    let (policies, more) = s.db(move |m| m.list_user_policies(&user, &prefix, &after, amount)).await?;
    let page = pagination(policies.len(), more, policies.last().map(|p| p.id.as_str()));
    json_response(StatusCode::OK, &PolicyList { pagination: page, results: policies })
}

pub async fn attach(s: &Arc<Embedded>, user: String, policy: String) -> ApiResult<Response<Body>> {
    s.db(move |m| m.attach_policy(&user, &policy)).await?;
    Ok(status_response(StatusCode::CREATED))
}

pub async fn detach(s: &Arc<Embedded>, user: String, policy: String) -> ApiResult<Response<Body>> {
    s.db(move |m| m.detach_policy(&user, &policy)).await?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(effect: &str, actions: &[&str], resource: &str) -> Policy {
        Policy {
            id: "p".into(),
            creation_date: None,
            statement: vec![Statement {
                effect: effect.into(),
                resource: resource.into(),
                action: actions.iter().map(|a| a.to_string()).collect(),
                condition: None,
            }],
        }
    }

    #[test]
    fn policies_are_validated_like_lakefs() {
        assert!(validate_policy(&policy("allow", &["fs:ReadObject", "fs:*", "*"], "*")).is_ok());
        assert!(validate_policy(&policy("maybe", &["fs:ReadObject"], "*")).is_err());
        assert!(validate_policy(&policy("deny", &[], "*")).is_err());
        assert!(validate_policy(&policy("deny", &["ReadObject"], "*")).is_err());
        assert!(validate_policy(&policy("deny", &["fs:Read Object"], "*")).is_err());
        assert!(validate_policy(&policy("deny", &["fs:ReadObject"], "")).is_err());
        assert!(validate_policy(&Policy { statement: vec![], ..policy("allow", &["*"], "*") }).is_err());
        assert!(validate_policy(&Policy { id: String::new(), ..policy("allow", &["*"], "*") }).is_err());
        let mut cond = policy("allow", &["*"], "*");
        cond.statement[0].condition = Some(serde_json::json!({"IpAddress": {}}).as_object().unwrap().clone());
        assert!(matches!(validate_policy(&cond), Err(ApiError::NotImplemented(_))));
    }
}
