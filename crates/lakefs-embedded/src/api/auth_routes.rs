//! lakeFS's auth API (`/api/v1/auth/…`, tags `auth` and `external` of lakeFS v1.84's
//! `api/swagger.yml`; the routes are `lakefs_api::operations::AuthRoute`): users, credentials,
//! policies, external principals and `externalPrincipalLogin`, each with the permission lakeFS's
//! controller checks for it.

use super::{policies_api, principals_api, users_api};
use crate::Embedded;
use crate::authz::{Caller, Permission, action as a, arn};
use crate::error::ApiResult;
use crate::http::{Body, Query};
use http::{Request, Response};
use hyper::body::Incoming;
use lakefs_api::operations::AuthRoute;
use std::sync::Arc;

/// What the caller must be allowed to do for `route` (lakeFS `pkg/api/controller.go`); `createUser`
/// and `createPolicy` are checked by their handlers, which know the id from the body.
pub fn permissions(route: &AuthRoute, q: &Query) -> Vec<Permission> {
    use AuthRoute::*;
    let user = |action, u: &str| vec![Permission::new(action, arn::user(u))];
    let policy = |action, p: &str| vec![Permission::new(action, arn::policy(p))];
    match route {
        ListUsers => vec![Permission::new(a::LIST_USERS, arn::ALL)],
        GetUser(u) | ListUserPolicies(u) | ListUserExternalPrincipals(u) => user(a::READ_USER, u),
        DeleteUser(u) => user(a::DELETE_USER, u),
        ListUserCredentials(u) => user(a::LIST_CREDENTIALS, u),
        CreateCredentials(u) => user(a::CREATE_CREDENTIALS, u),
        GetCredentials(u, _) => user(a::READ_CREDENTIALS, u),
        DeleteCredentials(u, _) => user(a::DELETE_CREDENTIALS, u),
        ListPolicies => vec![Permission::new(a::LIST_POLICIES, arn::ALL)],
        GetPolicy(p) => policy(a::READ_POLICY, p),
        DeletePolicy(p) => policy(a::DELETE_POLICY, p),
        AttachPolicyToUser(u, _) => user(a::ATTACH_POLICY, u),
        DetachPolicyFromUser(u, _) => user(a::DETACH_POLICY, u),
        CreateUserExternalPrincipal(u) => user(a::CREATE_EXTERNAL_PRINCIPAL, u),
        DeleteUserExternalPrincipal(u) => user(a::DELETE_EXTERNAL_PRINCIPAL, u),
        GetExternalPrincipal => {
            let id = q.str_or_empty("principalId");
            vec![Permission::new(a::READ_EXTERNAL_PRINCIPAL, arn::external_principal(id))]
        }
        CreateUser | CreatePolicy | ExternalPrincipalLogin => vec![],
    }
}

/// Runs an auth operation for an authorized caller.
pub async fn dispatch(
    s: &Arc<Embedded>,
    route: AuthRoute,
    caller: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    use AuthRoute::*;
    match route {
        ListUsers => users_api::list_users(s, req).await,
        CreateUser => users_api::create_user(s, caller, req).await,
        GetUser(u) => users_api::get_user(s, u).await,
        DeleteUser(u) => users_api::delete_user(s, u).await,
        ListUserCredentials(u) => users_api::list_credentials(s, u, req).await,
        CreateCredentials(u) => users_api::create_credentials(s, u).await,
        GetCredentials(u, k) => users_api::get_credentials(s, u, k).await,
        DeleteCredentials(u, k) => users_api::delete_credentials(s, u, k).await,
        ListPolicies => policies_api::list_policies(s, req).await,
        CreatePolicy => policies_api::create_policy(s, caller, req).await,
        GetPolicy(p) => policies_api::get_policy(s, p).await,
        DeletePolicy(p) => policies_api::delete_policy(s, p).await,
        ListUserPolicies(u) => policies_api::list_user_policies(s, u, req).await,
        AttachPolicyToUser(u, p) => policies_api::attach(s, u, p).await,
        DetachPolicyFromUser(u, p) => policies_api::detach(s, u, p).await,
        CreateUserExternalPrincipal(u) => principals_api::create(s, u, req).await,
        DeleteUserExternalPrincipal(u) => principals_api::delete(s, u, req).await,
        ListUserExternalPrincipals(u) => principals_api::list(s, u, req).await,
        GetExternalPrincipal => principals_api::get(s, req).await,
        ExternalPrincipalLogin => principals_api::login(s, req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_principal_permission_names_the_principal() {
        let q = Query::parse(Some("principalId=arn%3Ax"));
        assert_eq!(
            permissions(&AuthRoute::GetExternalPrincipal, &q),
            vec![Permission::new(a::READ_EXTERNAL_PRINCIPAL, "arn:lakefs:auth:::externalPrincipal/arn:x")]
        );
    }
}
