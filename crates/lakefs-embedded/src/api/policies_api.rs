//! Policy operations of lakeFS's auth API: `listPolicies`, `createPolicy`, `getPolicy`,
//! `deletePolicy`, `listUserPolicies`, `attachPolicyToUser`, `detachPolicyFromUser`. Statements
//! are lakeFS's (`effect` allow/deny, `action`s such as `fs:ReadObject` or `fs:*`, a `resource`
//! ARN pattern); conditions are not supported. Answers follow lakeFS v1.84.0 with an auth service
//! (see [`super::users_api`]): `policy not found`, `not found`, `Already exists`, `invalid request`.

use super::users_api::{auth_pagination, conflict_as_lakefs, empty_if_unknown, not_found_as, page_params};
use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::policies::valid_policy_id;
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response, read_json, status_response};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::auth_dto::{Policy, PolicyList, Statement};
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

/// What the request schema refuses before anything else (lakeFS's OpenAPI validator, 400):
/// an `effect` other than allow/deny, no action, no statement.
pub fn check_schema(p: &Policy) -> ApiResult<()> {
    if p.statement.is_empty() {
        return Err(ApiError::bad_request("policy statement: at least one statement is required"));
    }
    for st in &p.statement {
        if st.effect != "allow" && st.effect != "deny" {
            return Err(ApiError::bad_request(format!("statement effect: invalid value {:?}", st.effect)));
        }
        if st.action.is_empty() {
            return Err(ApiError::bad_request("statement action: at least one action is required"));
        }
    }
    Ok(())
}

/// The checks after authorization: `%` (the controller's `isNameValid`), an empty id or one with
/// `/` (`model.ValidateAuthEntityID`), then what the auth service refuses (400 `invalid request`):
/// our id limits, malformed actions, an empty resource. Conditions: 501 (not supported here).
pub fn validate_policy(p: &Policy) -> ApiResult<()> {
    if p.id.contains('%') {
        return Err(ApiError::bad_request("Policy name cannot contain '%'"));
    }
    if p.id.is_empty() {
        return Err(ApiError::bad_request("empty name: validation error"));
    }
    if p.id.contains('/') {
        return Err(ApiError::bad_request("name contains delimiter /: validation error"));
    }
    let bad_statement = |st: &Statement| !st.action.iter().all(|a| valid_action(a)) || st.resource.is_empty();
    if !valid_policy_id(&p.id) || p.statement.iter().any(bad_statement) {
        return Err(ApiError::bad_request("invalid request"));
    }
    if p.statement.iter().any(|st| st.condition.as_ref().is_some_and(|c| !c.is_empty())) {
        return Err(ApiError::NotImplemented("policy conditions are not supported by the embedded server".into()));
    }
    Ok(())
}

pub async fn list_policies(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (prefix, after, amount) = page_params(&req)?;
    let (policies, more) = s.db(move |m| m.list_policies(&prefix, &after, amount)).await?;
    let page = auth_pagination(policies.len(), more, policies.last().map(|p| p.id.as_str()));
    json_response(StatusCode::OK, &PolicyList { pagination: page, results: policies })
}

/// `createPolicy`: the schema (400), then lakeFS's order: `auth:CreatePolicy` on the policy (401),
/// the id and statements (400), an existing policy (409 `Already exists`).
pub async fn create_policy(s: &Arc<Embedded>, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let policy: Policy = read_json(req.into_body()).await?;
    check_schema(&policy)?;
    caller.require(&[Permission::new(action::CREATE_POLICY, arn::policy(&policy.id))])?;
    validate_policy(&policy)?;
    let created = conflict_as_lakefs(s.db(move |m| m.create_policy(policy)).await)?;
    json_response(StatusCode::CREATED, &created)
}

pub async fn get_policy(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    let policy = not_found_as(s.db(move |m| m.get_policy(&id)).await, "policy not found")?;
    json_response(StatusCode::OK, &policy)
}

pub async fn delete_policy(s: &Arc<Embedded>, id: String) -> ApiResult<Response<Body>> {
    not_found_as(s.db(move |m| m.delete_policy(&id)).await, "policy not found")?;
    Ok(status_response(StatusCode::NO_CONTENT))
}

/// `listUserPolicies`; `effective` lists the same policies, as users have no groups here. The
/// auth service lists an unknown user's attachments as none, but looks the user up for the
/// effective ones (`contrib/auth/acl/service.go` `ListUserPolicies`, `getEffectivePolicies`).
pub async fn list_user_policies(s: &Arc<Embedded>, user: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let effective = Query::parse(req.uri().query()).bool("effective", false)?;
    let (prefix, after, amount) = page_params(&req)?;
    let listed = s.db(move |m| m.list_user_policies(&user, &prefix, &after, amount)).await;
    let (policies, more) = if effective { not_found_as(listed, "not found")? } else { empty_if_unknown(listed)? };
    let page = auth_pagination(policies.len(), more, policies.last().map(|p| p.id.as_str()));
    json_response(StatusCode::OK, &PolicyList { pagination: page, results: policies })
}

/// `attachPolicyToUser`: 404 `not found` for an unknown user or policy, 409 `Already exists` when
/// attached (the auth service's `AttachPolicyToUser`), else 201.
pub async fn attach(s: &Arc<Embedded>, user: String, policy: String) -> ApiResult<Response<Body>> {
    let attached = s
        .db(move |m| {
            let (page, _) = m.list_user_policies(&user, &policy, "", 1)?;
            if page.first().is_some_and(|p| p.id == policy) {
                return Err(ApiError::Conflict("Already exists".into()));
            }
            m.attach_policy(&user, &policy)
        })
        .await;
    not_found_as(attached, "not found")?;
    Ok(status_response(StatusCode::CREATED))
}

pub async fn detach(s: &Arc<Embedded>, user: String, policy: String) -> ApiResult<Response<Body>> {
    not_found_as(s.db(move |m| m.detach_policy(&user, &policy)).await, "not found")?;
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
        let text = |r: ApiResult<()>| match r {
            Err(ApiError::BadRequest(m)) => m,
            other => format!("{other:?}"),
        };
        assert!(check_schema(&policy("allow", &["fs:ReadObject", "fs:*", "*"], "*")).is_ok());
        assert!(validate_policy(&policy("allow", &["fs:ReadObject", "fs:*", "*"], "*")).is_ok());
        assert!(check_schema(&policy("maybe", &["fs:ReadObject"], "*")).is_err());
        assert!(check_schema(&policy("deny", &[], "*")).is_err());
        assert!(check_schema(&Policy { statement: vec![], ..policy("allow", &["*"], "*") }).is_err());
        assert_eq!(text(validate_policy(&policy("deny", &["ReadObject"], "*"))), "invalid request");
        assert_eq!(text(validate_policy(&policy("deny", &["fs:Read Object"], "*"))), "invalid request");
        assert_eq!(text(validate_policy(&policy("deny", &["fs:ReadObject"], ""))), "invalid request");
        let named = |id: &str| validate_policy(&Policy { id: id.into(), ..policy("allow", &["*"], "*") });
        assert_eq!(text(named("")), "empty name: validation error");
        assert_eq!(text(named("a/b")), "name contains delimiter /: validation error");
        assert_eq!(text(named("a%b")), "Policy name cannot contain '%'");
        let mut cond = policy("allow", &["*"], "*");
        cond.statement[0].condition = Some(serde_json::json!({"IpAddress": {}}).as_object().unwrap().clone());
        assert!(matches!(validate_policy(&cond), Err(ApiError::NotImplemented(_))));
    }
}
