//! Accounts as the command line creates them, and the account page's password change.

use super::*;

both_engines!(accounts_refuse_weak_passwords_and_name_the_field, |engine| async move {
    let h = Harness::start(engine).await;
    let accounts = h.gateway.accounts();
    let new = |username: &str, role: Role, password: &str| NewAccount {
        username: username.to_owned(),
        role,
        partner_id: None,
        user_id: None,
        password: Zeroizing::new(password.to_owned()),
    };
    let message = |result: Result<AccountInfo, wf_gateway::AccountError>| result.unwrap_err().to_string();
    let short = message(accounts.add(new("mgarcia", Role::CaseManager, "short pass")).await);
    assert!(short.contains("password: must be at least 15 characters"), "{short}");
    let common = message(accounts.add(new("mgarcia", Role::CaseManager, "1q2w3e4r5t6y7u8i")).await);
    assert!(common.contains("commonly used"), "{common}");
    let same = message(accounts.add(new("mgarcia.outreach", Role::CaseManager, "mgarcia.outreach")).await);
    assert!(same.contains("must not be the username"), "{same}");
    let partner = message(accounts.add(new("partner1", Role::Partner, PASSWORD)).await);
    assert!(partner.contains("partner_id: must be set for role partner"), "{partner}");
    let service = message(accounts.add(new("svc", Role::Service, PASSWORD)).await);
    assert!(service.contains("role: service is not a person's role"), "{service}");

    let added = h.add("mgarcia", Role::CaseManager).await;
    assert!(added.id.as_str().starts_with("acct_"));
    assert_eq!(added.user_id, added.id.to_string(), "the subject defaults to the account id");
    let taken = message(accounts.add(new("MGARCIA", Role::Supervisor, PASSWORD)).await);
    assert!(taken.contains("already taken"), "{taken}");
    let mut linked = new("jlee", Role::Supervisor, PASSWORD);
    linked.user_id = Some(added.user_id.clone());
    assert!(message(accounts.add(linked).await).contains("already belongs to another account"));
    let mut partner = new("partner1", Role::Partner, PASSWORD);
    partner.partner_id = Some("org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".parse().unwrap());
    partner.user_id = Some("partner-staff-1".to_owned());
    let partner = accounts.add(partner).await.unwrap();
    assert_eq!(partner.user_id, "partner-staff-1");
    let names: Vec<String> = accounts.list().await.unwrap().into_iter().map(|a| a.username).collect();
    assert_eq!(names, ["mgarcia", "partner1"]);
    assert!(matches!(accounts.disable("nobody").await, Err(wf_gateway::AccountError::UnknownAccount(_))));
});

both_engines!(changing_the_password_checks_the_current_one_and_ends_other_sessions, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut here = h.signed_in("mgarcia").await;
    let mut elsewhere = h.signed_in("mgarcia").await;
    let page = here.get("/account").await;
    assert!(page.body.contains("Case manager") && page.body.contains("Wayfinder program staff"));
    let csrf = page.csrf();
    let new = "an entirely fresh passphrase";
    let wrong = here
        .post(
            "/account/password",
            &[("csrf_token", &csrf), ("current_password", "nope"), ("new_password", new), ("confirm_password", new)],
        )
        .await;
    wrong.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("The current password is not right"), "{}", wrong.body);
    let weak = here
        .post(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert!(weak.body.contains("The new password must be at least 15 characters"), "{}", weak.body);
    assert!(weak.body.contains("aria-invalid=\"true\""));
    let done = here
        .post(
            "/account/password",
            &[("csrf_token", &csrf), ("current_password", PASSWORD), ("new_password", new), ("confirm_password", new)],
        )
        .await;
    assert_eq!(done.location(), Some("/account?done=password"));
    assert_eq!(here.get("/").await.status, StatusCode::OK, "this session stays");
    assert_eq!(elsewhere.get("/").await.location(), Some("/sign-in"), "the others end");
    h.browser().sign_in("mgarcia", new, None).await.expect_status(StatusCode::SEE_OTHER);
});
