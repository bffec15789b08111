//! The service's load balancers against AWS's ELB controls: access logs
//! (ELB.5), deletion protection (ELB.6), HTTP redirected to HTTPS (ELB.1),
//! invalid headers dropped (ELB.4) and desync mitigation (ELB.12). A load
//! balancer whose attributes were not read is named, never passed.

use super::*;
use crate::model::LoadBalancerPosture;

/// The service's load balancers whose posture was read; the others make
/// the check not evaluated (naming them).
fn read<'a>(c: &Ctx<'a>) -> Vec<&'a LoadBalancerPosture> {
    let mut out = vec![];
    let mut unread = vec![];
    for (arn, p) in c.load_balancers() {
        match p {
            Some(p) if p.unread.is_none() => out.push(p),
            // A read error is the input's gap (Ctx::posture_error).
            Some(_) => {}
            None => unread.push(arn.rsplit('/').nth(1).unwrap_or(arn)),
        }
    }
    if !unread.is_empty() {
        c.not_evaluated(format!(
            "not evaluated: the attributes of load balancer {} were not read",
            unread.join(", ")
        ));
    }
    out
}

fn attr_fix(lb: &LoadBalancerPosture, key: &str, value: &str) -> String {
    format!(
        "aws elbv2 modify-load-balancer-attributes --load-balancer-arn {} --attributes Key={key},Value={value}",
        lb.arn
    )
}

/// OPS-10: access logs (ELB.5).
pub(super) fn ops10<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    read(c)
        .into_iter()
        .filter(|lb| lb.kind != "gateway" && !lb.enabled("access_logs.s3.enabled"))
        .flat_map(|lb| {
            hit(
                Medium,
                &lb.arn,
                vec![format!(
                    "load balancer {} access_logs.s3.enabled=false",
                    lb.name
                )],
                format!(
                    "{} Key=access_logs.s3.bucket,Value=<bucket>",
                    attr_fix(lb, "access_logs.s3.enabled", "true")
                ),
            )
        })
        .collect()
}

/// REL-17: deletion protection (ELB.6); Medium in prod, Low elsewhere.
pub(super) fn rel17<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let lbs = read(c);
    let sev = if c.is_prod() { Medium } else { Low };
    lbs.into_iter()
        .filter(|lb| !lb.enabled("deletion_protection.enabled"))
        .flat_map(|lb| {
            hit(
                sev,
                &lb.arn,
                vec![format!(
                    "load balancer {} deletion_protection.enabled=false",
                    lb.name
                )],
                attr_fix(lb, "deletion_protection.enabled", "true"),
            )
        })
        .collect()
}

/// SEC-12: an Application Load Balancer redirects HTTP to HTTPS (ELB.1),
/// drops invalid header fields (ELB.4) and mitigates desync in defensive
/// or strictest mode (ELB.12).
pub(super) fn sec12<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let mut out = vec![];
    for lb in read(c).into_iter().filter(|l| l.is_application()) {
        let mut ev = vec![];
        let mut fix = vec![];
        for l in &lb.listeners {
            if l.protocol == "HTTP" && !l.redirects_to_https {
                ev.push(format!(
                    "load balancer {} listener HTTP:{} does not redirect to HTTPS",
                    lb.name, l.port
                ));
                fix.push(format!(
                    "aws elbv2 modify-listener --listener-arn <HTTP:{} listener of {}> --default-actions 'Type=redirect,RedirectConfig={{Protocol=HTTPS,Port=443,StatusCode=HTTP_301}}'",
                    l.port, lb.name
                ));
            }
        }
        if !lb.enabled("routing.http.drop_invalid_header_fields.enabled") {
            ev.push(format!(
                "load balancer {} routing.http.drop_invalid_header_fields.enabled=false",
                lb.name
            ));
            fix.push(attr_fix(
                lb,
                "routing.http.drop_invalid_header_fields.enabled",
                "true",
            ));
        }
        let desync = lb
            .attributes
            .get("routing.http.desync_mitigation_mode")
            .map_or("absent", String::as_str);
        if !["defensive", "strictest"].contains(&desync) {
            ev.push(format!(
                "load balancer {} routing.http.desync_mitigation_mode={desync}",
                lb.name
            ));
            fix.push(attr_fix(
                lb,
                "routing.http.desync_mitigation_mode",
                "defensive",
            ));
        }
        if !ev.is_empty() {
            out.extend(hit(Medium, &lb.arn, ev, fix.join(" ; ")));
        }
    }
    out
}
