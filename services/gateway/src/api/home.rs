//! `GET /`, where sign-in lands. The "action needed" screens replace this page; until they exist
//! it says who is signed in and links to what the gateway offers.

use askama::Template;
use askama_web::WebTemplate;

use super::layout::{Layout, organization};
use crate::app::SignedIn;
use crate::domain::account::role_label;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub username: String,
    pub role: &'static str,
    pub organization: String,
}

pub async fn home(who: SignedIn) -> HomePage {
    HomePage {
        layout: Layout::for_person(&who, "Home"),
        username: who.username.clone(),
        role: role_label(who.role),
        organization: organization(&who),
    }
}
