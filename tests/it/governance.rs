//! `/governance`, the way into property governance, and the subdistrict's figures on it and
//! on the home page.

use axum::http::StatusCode;

use crate::harness::{for_each_db, PASSWORD};

#[tokio::test]
async fn the_hub_links_every_part_and_shows_the_figures_to_the_subdistrict() {
    for_each_db(|app| async move {
        let _f = app.fixture().await;
        let (s, admin) = app.browser_login("admin", PASSWORD).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (s, _, html) = app.browser_get("/governance", &admin).await;
        assert_eq!(s, StatusCode::OK);
        for href in [
            "/office",
            "/committees",
            "/property",
            "/companies",
            "/fund",
            "/mediation",
        ] {
            assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
        }
        assert!(
            html.contains("近两年") && html.contains("物业费调价"),
            "{html}"
        );
        let (_, _, home) = app.browser_get("/", &admin).await;
        assert!(home.contains("业委会换届完成") && home.contains("href=\"/governance\""));
        // A resident reaches the hub but sees no subdistrict figures; their home links the
        // fund statement of their room.
        let (_, resident) = app.browser_login("resident", PASSWORD).await;
        let (s, _, html) = app.browser_get("/governance", &resident).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!html.contains("近两年"));
        let (_, _, home) = app.browser_get("/", &resident).await;
        assert!(home.contains("/fund/rooms/"), "{home}");
    })
    .await;
}
