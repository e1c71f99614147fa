//! The command line's help says what it does: every command and flag has help text, and the closed
//! sets (services, report kinds, analyze methods) are named in full where a command takes them.

use clap::{CommandFactory, Parser, ValueEnum};
use wf_proto::evaluation::v1 as pb;

use super::analyze::Method;
use super::report::ReportKindArg;
use super::*;

fn command() -> clap::Command {
    let mut command = Cli::command();
    command.build();
    command
}

/// The long help of `wayfinder <path…>`.
fn help(path: &[&str]) -> String {
    let mut command = command();
    let mut at = &mut command;
    for name in path {
        at = at.find_subcommand_mut(name).unwrap_or_else(|| panic!("no subcommand {name}"));
    }
    at.render_long_help().to_string()
}

fn about(name: &str) -> String {
    let command = command();
    let sub = command.find_subcommand(name).unwrap_or_else(|| panic!("no subcommand {name}"));
    sub.get_about().map(ToString::to_string).unwrap_or_default()
}

fn value_names<T: ValueEnum>() -> Vec<String> {
    T::value_variants().iter().filter_map(|v| v.to_possible_value()).map(|v| v.get_name().to_owned()).collect()
}

#[test]
fn the_command_line_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn every_command_and_flag_has_help() {
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_name() != "help" && sub.get_about().is_none() {
                missing.push(sub_path.clone());
            }
            walk(sub, &sub_path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&command(), "wayfinder", &mut missing);
    assert!(missing.is_empty(), "without help text: {missing:?}");
}

#[test]
fn service_commands_name_every_service() {
    for name in wf_config::SERVICES {
        assert!(about("serve").contains(name), "`wayfinder --help` for serve omits {name}");
        for path in [&["serve"][..], &["migrate"], &["dlq", "list"], &["dlq", "replay"]] {
            assert!(help(path).contains(name), "`wayfinder {} --help` omits {name}", path.join(" "));
        }
    }
    let err = Cli::try_parse_from(["wayfinder", "dlq", "list", "--service", "billing"]).unwrap_err().to_string();
    assert!(err.contains("evaluation"), "{err}");
    let cli = Cli::try_parse_from(["wayfinder", "serve", "evaluation", "all"]).expect("evaluation and all parse");
    let Command::Serve(args) = cli.command else { panic!("not serve") };
    assert_eq!(args.services, ["evaluation", "all"]);
}

#[test]
fn report_names_every_kind_and_reaches_every_kind_the_service_has() {
    let kinds = value_names::<ReportKindArg>();
    for kind in &kinds {
        assert!(about("report").contains(kind.as_str()), "`wayfinder --help` for report omits {kind}");
        assert!(help(&["report"]).contains(kind.as_str()), "`wayfinder report --help` omits {kind}");
    }
    // Every kind the evaluation service builds (its catalog answers None for one it does not, such as
    // REPORT_KIND_HMIS_AGGREGATE, which answers UNIMPLEMENTED).
    let reachable: Vec<pb::ReportKind> = ReportKindArg::value_variants().iter().map(|k| k.report_kind()).collect();
    for value in 1..64 {
        let Ok(kind) = pb::ReportKind::try_from(value) else { continue };
        if wf_evaluation::domain::catalog::report(kind, &[], None, None).is_some() {
            assert!(reachable.contains(&kind), "{} has no `wayfinder report` kind", kind.as_str_name());
        }
    }
}

#[test]
fn report_group_by_names_every_dimension() {
    let help = help(&["report"]);
    for dimension in wf_evaluation::domain::dataset::DIMENSIONS {
        assert!(help.contains(dimension), "`wayfinder report --help` omits the dimension {dimension}");
    }
}

#[test]
fn analyze_names_all_six_methods() {
    let methods = value_names::<Method>();
    assert_eq!(methods, ["km", "logrank", "cox", "logit", "rmst", "cif"]);
    for method in &methods {
        assert!(about("analyze").contains(method.as_str()), "`wayfinder --help` for analyze omits {method}");
        assert!(help(&["analyze"]).contains(method.as_str()), "`wayfinder analyze --help` omits {method}");
    }
}

#[test]
fn keys_rotate_does_not_ask_to_stop_intake() {
    // Intake re-reads its key file when it changes (wf_intake::vault::LiveKeys).
    let help = help(&["keys", "rotate"]);
    assert!(!help.to_lowercase().contains("stop intake"), "{help}");
    assert!(help.contains("may keep running"), "{help}");
}

#[test]
fn ids_and_closed_sets_are_checked_when_parsed() {
    let err = Cli::try_parse_from(["wayfinder", "status", "42"]).unwrap_err().to_string();
    assert!(err.contains("ref_"), "{err}");
    let referral = wf_types::ReferralId::generate();
    let cli = Cli::try_parse_from(["wayfinder", "status", referral.as_str(), "--json"]).expect("a referral id parses");
    let Command::Status(args) = cli.command else { panic!("not status") };
    assert_eq!(args.referral_id, referral);

    let err =
        Cli::try_parse_from(["wayfinder", "audit", "disclosure", "--youth", "ref_1", "--purpose", "p", "--out", "x"])
            .unwrap_err()
            .to_string();
    assert!(err.contains("yth_"), "{err}");
    let err = Cli::try_parse_from([
        "wayfinder",
        "audit",
        "disclosure",
        "--referral",
        referral.as_str(),
        "--format",
        "pdf",
        "--purpose",
        "p",
        "--out",
        "x",
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("csv") && err.contains("html"), "{err}");

    let err = Cli::try_parse_from(["wayfinder", "token", "--role", "janitor"]).unwrap_err().to_string();
    assert!(err.contains("case_manager"), "{err}");
    let cli = Cli::try_parse_from(["wayfinder", "token", "--role", "case_manager"]).expect("a role parses");
    let Command::Token(args) = cli.command else { panic!("not token") };
    assert_eq!(args.role, wf_auth::Role::CaseManager);

    let err = Cli::try_parse_from(["wayfinder", "dlq", "replay", "--service", "routing", "--event-id", "x"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("event-id"), "{err}");
}

#[test]
fn database_commands_share_one_database_flag() {
    for path in [
        &["serve"][..],
        &["up"],
        &["migrate"],
        &["audit", "verify"],
        &["keys", "rotate"],
        &["keys", "retire"],
        &["keys", "status"],
        &["routing", "simulate"],
        &["routing", "export-hsds"],
        &["routing", "import-hsds"],
    ] {
        assert!(help(path).contains("--database-url"), "`wayfinder {} --help` has no --database-url", path.join(" "));
    }
    let cli = Cli::try_parse_from(["wayfinder", "keys", "status", "--database-url", "postgres://x@127.0.0.1/wf"])
        .expect("parses");
    let Command::Keys { action } = cli.command else { panic!("not keys") };
    assert_eq!(action.db().database_url.as_deref(), Some("postgres://x@127.0.0.1/wf"));
}

#[test]
fn token_lifetimes_the_servers_would_refuse_are_refused_when_minted() {
    use wf_auth::{Role, TokenKind};
    assert!(super::serve::check_ttl(TokenKind::User, Role::CaseManager, 720).is_ok());
    let err = super::serve::check_ttl(TokenKind::User, Role::CaseManager, 721).unwrap_err().to_string();
    assert_eq!(
        err,
        "--ttl-minutes 721 is out of range for a case_manager token; allowed 1 to 720 (the servers refuse longer-lived tokens)"
    );
    assert!(super::serve::check_ttl(TokenKind::Service, Role::Service, 61).is_err());
    assert!(super::serve::check_ttl(TokenKind::Partner, Role::Partner, 0).is_err());
}
