//! `wayfinder dlq list|replay`: the dead letters of one consuming service (events its consumer gave
//! up on), through the admin API of the process that hosts it.

use clap::Subcommand;
use uuid::Uuid;
use wf_auth::Role;
use wf_proto::admin::v1 as admin;

use super::{Connect, Globals, rfc3339, service_name, status_error};

#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// Show the service's dead letters (listing leaves them in place).
    List {
        /// The consuming service.
        #[arg(long, value_parser = service_name(false))]
        service: String,
        /// At most this many letters.
        #[arg(long, default_value_t = 100)]
        limit: i32,
        #[command(flatten)]
        connect: Connect,
    },
    /// Send the service's dead letters back to its queue, to be consumed again.
    Replay {
        /// The consuming service.
        #[arg(long, value_parser = service_name(false))]
        service: String,
        /// Only these event ids (default: all); repeat the flag for several.
        #[arg(long = "event-id")]
        event_ids: Vec<Uuid>,
        #[command(flatten)]
        connect: Connect,
    },
}

pub async fn run(action: DlqAction, globals: &Globals) -> anyhow::Result<()> {
    match action {
        DlqAction::List { service, limit, connect } => {
            let target = connect.target(&globals.client_data_dir())?;
            let mut client = admin::admin_service_client::AdminServiceClient::new(target.authed(Role::Admin).await?);
            let letters = client
                .list_dead_letters(admin::ListDeadLettersRequest { service: service.clone(), page_size: limit })
                .await
                .map_err(status_error)?
                .into_inner()
                .dead_letters;
            if letters.is_empty() {
                println!("no dead letters for {service}");
            }
            for letter in letters {
                println!(
                    "{}  {:<24} {:<40} attempts {}  {}  at {}",
                    letter.event_id,
                    letter.r#type,
                    letter.aggregate_id,
                    letter.attempts,
                    letter.reason,
                    rfc3339(letter.dead_lettered_at.as_ref()).unwrap_or_default()
                );
            }
            Ok(())
        }
        DlqAction::Replay { service, event_ids, connect } => {
            let target = connect.target(&globals.client_data_dir())?;
            let mut client = admin::admin_service_client::AdminServiceClient::new(target.authed(Role::Admin).await?);
            let asked = event_ids.len();
            let event_ids = event_ids.iter().map(Uuid::to_string).collect();
            let replayed = client
                .replay_dead_letters(admin::ReplayDeadLettersRequest { service: service.clone(), event_ids })
                .await
                .map_err(status_error)?
                .into_inner()
                .replayed;
            println!("replayed {replayed} dead letters to {service}");
            // Named letters that were not there were not replayed: say so rather than succeed quietly.
            let replayed = usize::try_from(replayed).unwrap_or(0);
            if asked > 0 && replayed < asked {
                anyhow::bail!(
                    "{} of the {asked} --event-id values given are not dead letters of {service} (see `wayfinder dlq \
                     list --service {service}`)",
                    asked - replayed
                );
            }
            Ok(())
        }
    }
}
