"""Build requests.jsonl: a day of support-desk traffic for cache simulation.

Every phrasing and answer below was written by hand.  The script only samples
them into an arrival stream: which intent arrives (a skewed popularity, as in
real support queues), which phrasing, light greetings and sign-offs, and the
times between arrivals.  The seed is fixed, so the file is reproducible:

    python datasets/support_cache/make_dataset.py
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261102
N_REQUESTS = 600
OUT = Path(__file__).with_name("requests.jsonl")

# intent: (answer, [phrasings]).  Intents that sit next to each other are the
# look-alikes: close in wording, different in the answer they deserve.
INTENTS: dict[str, tuple[str, list[str]]] = {
    "cancel_subscription": ("Go to Settings > Billing > Cancel plan; access lasts "
                            "until the end of the paid period.", [
        "How do I cancel my subscription?",
        "I want to cancel my subscription",
        "how can i cancel my plan",
        "Where do I cancel the subscription?",
        "Please help me cancel my monthly subscription",
        "cancel subscription",
    ]),
    "keep_subscription": ("Turn off 'Cancel at period end' under Settings > "
                          "Billing; your plan then renews as usual.", [
        "How do I not cancel my subscription? I clicked cancel by mistake",
        "I don't want to cancel my subscription anymore",
        "how do i undo cancel subscription",
        "Please don't cancel my subscription, it was a mistake",
    ]),
    "pause_subscription": ("Settings > Billing > Pause lets you pause for up to "
                           "3 months without losing data.", [
        "Can I pause my subscription instead of cancelling?",
        "how do I pause my plan for a month",
        "Is there a way to pause the subscription?",
    ]),
    "reset_password": ("Use 'Forgot password' on the sign-in page; the link is "
                       "valid for 30 minutes.", [
        "How do I reset my password?",
        "I forgot my password",
        "forgot password can't log in",
        "Please send me a password reset link",
        "how can I change my password if I forgot it",
        "reset password",
    ]),
    "reset_2fa": ("Sign in with a recovery code, then Security > Two-factor > "
                  "Reset. Lost the codes? Ask an admin.", [
        "How do I reset my 2FA?",
        "I lost my phone and need to reset two-factor authentication",
        "reset 2FA",
        "my authenticator app is gone, how do I reset 2FA",
        "Can you reset two factor for me?",
    ]),
    "reset_password_admin": ("Admins reset a member's password in Admin > "
                             "Members > ... > Send reset link.", [
        "How do I reset the password for an admin user?",
        "reset password for admin",
        "As an admin, how do I reset a user's password?",
        "reset password for another user in my team",
    ]),
    "reset_2fa_admin": ("Admins clear a member's 2FA in Admin > Members > ... > "
                        "Reset two-factor; the member enrols again.", [
        "How do I reset 2FA for an admin user?",
        "reset 2FA for admin",
        "As an admin, how do I reset a user's two-factor?",
        "reset 2FA for another user in my team",
    ]),
    "change_email": ("Profile > Email > Change; we confirm the new address "
                     "before switching.", [
        "How do I change my email address?",
        "I need to update the email on my account",
        "change login email",
        "can I use a different email for my account",
    ]),
    "change_billing_email": ("Settings > Billing > Invoice recipient; it can "
                             "differ from your login email.", [
        "How do I change the billing email?",
        "Invoices should go to a different email address",
        "change billing email",
        "update the email address invoices are sent to",
    ]),
    "update_card": ("Settings > Billing > Payment method > Replace card.", [
        "How do I update my credit card?",
        "my card expired, how do I add a new one",
        "change payment card",
        "update payment method",
        "I need to replace the card on file",
    ]),
    "remove_card": ("A card can be removed only after another payment method "
                    "is added, in Settings > Billing.", [
        "How do I remove my credit card?",
        "delete my card from the account",
        "remove payment method",
        "I don't want my card stored anymore",
    ]),
    "download_invoice": ("Settings > Billing > Invoices lists every invoice as "
                         "a PDF.", [
        "Where can I download my invoices?",
        "I need a copy of last month's invoice",
        "download invoice pdf",
        "how do I get an invoice for my payment",
        "where are my invoices",
    ]),
    "invoice_vat": ("Add your VAT ID in Settings > Billing > Tax details; new "
                    "invoices show it, we can reissue the last one.", [
        "My invoice is missing our VAT number",
        "how do I add a VAT ID to invoices",
        "invoice has the wrong tax details",
    ]),
    "upgrade_plan": ("Settings > Billing > Change plan; upgrades apply at once "
                     "and are prorated.", [
        "How do I upgrade my plan?",
        "I want to upgrade to the Business plan",
        "upgrade plan",
        "how can I move to a higher plan",
        "upgrade to pro",
    ]),
    "downgrade_plan": ("Settings > Billing > Change plan; downgrades apply at "
                       "the next renewal.", [
        "How do I downgrade my plan?",
        "I want to downgrade to the Starter plan",
        "downgrade plan",
        "how can I move to a cheaper plan",
    ]),
    "add_user": ("Admin > Members > Invite; each member takes a seat.", [
        "How do I add a user to my team?",
        "invite a colleague to the workspace",
        "add team member",
        "how can I add more people to my account",
    ]),
    "remove_user": ("Admin > Members > ... > Remove; their seat frees up at "
                    "once.", [
        "How do I remove a user from my team?",
        "remove a colleague from the workspace",
        "remove team member",
        "someone left the company, how do I take them off the account",
    ]),
    "export_csv": ("Reports > Export > CSV exports the current view.", [
        "How do I export my data to CSV?",
        "export to csv",
        "can I download my data as a spreadsheet",
        "how to export records to CSV",
    ]),
    "import_csv": ("Records > Import > CSV; map the columns, up to 50,000 rows "
                   "per file.", [
        "How do I import data from CSV?",
        "import csv",
        "can I upload a spreadsheet of records",
        "how to import records from a CSV file",
    ]),
    "delete_account": ("Settings > Account > Delete account removes all data "
                       "after 14 days.", [
        "How do I delete my account?",
        "please delete my account and all my data",
        "delete account",
        "I want to close my account permanently",
    ]),
    "delete_workspace": ("Admin > Workspace > Delete workspace; members keep "
                         "their personal accounts.", [
        "How do I delete a workspace?",
        "delete workspace",
        "remove the whole workspace but keep my account",
    ]),
    "refund_policy": ("Annual plans are refundable within 30 days; monthly "
                      "plans are not refunded.", [
        "What is your refund policy?",
        "Can I get a refund?",
        "do you give refunds",
        "is the subscription refundable",
        "I'd like my money back",
    ]),
    "enable_sso": ("Admin > Security > SSO > Enable, then add your identity "
                   "provider's metadata.", [
        "How do I enable SSO?",
        "turn on single sign-on",
        "set up SAML SSO for our team",
        "enable SSO",
    ]),
    "disable_sso": ("Admin > Security > SSO > Disable; members then sign in "
                    "with passwords.", [
        "How do I disable SSO?",
        "turn off single sign-on",
        "disable SSO",
        "remove SAML SSO from our team",
    ]),
    "api_key_create": ("Settings > API > New key; it is shown once.", [
        "How do I create an API key?",
        "generate api key",
        "where do I get an API token",
        "new API key please",
    ]),
    "api_key_revoke": ("Settings > API > ... > Revoke; calls with the key fail "
                       "at once.", [
        "How do I revoke an API key?",
        "revoke api key",
        "our API token leaked, how do I disable it",
        "delete an API key",
    ]),
    "rate_limit": ("The API allows 100 requests a minute per key; contact "
                   "sales for more.", [
        "What is the API rate limit?",
        "how many API calls can I make per minute",
        "I'm getting 429 errors from the API",
        "api rate limits",
    ]),
    "webhook_setup": ("Settings > Webhooks > Add endpoint, then pick the "
                      "events.", [
        "How do I set up a webhook?",
        "add a webhook endpoint",
        "how can I get notified via webhook",
        "configure webhooks",
    ]),
    "webhook_failing": ("Check Settings > Webhooks > Deliveries; we retry for "
                        "24 hours on non-2xx replies.", [
        "My webhook is not firing",
        "webhooks are failing",
        "why aren't webhook events delivered",
        "webhook deliveries keep failing with 500",
    ]),
    "slack": ("Integrations > Slack > Connect, then choose a channel.", [
        "How do I connect Slack?",
        "slack integration",
        "can I get notifications in Slack",
    ]),
    "teams": ("Integrations > Microsoft Teams > Connect, then choose a "
              "channel.", [
        "How do I connect Microsoft Teams?",
        "teams integration",
        "can I get notifications in Teams",
    ]),
    "notifications_off": ("Profile > Notifications; untick the emails you do "
                          "not want.", [
        "How do I turn off email notifications?",
        "stop sending me emails",
        "too many notification emails, how to disable",
        "unsubscribe from notifications",
    ]),
    "notifications_on": ("Profile > Notifications; tick the emails you want.", [
        "How do I turn on email notifications?",
        "I'm not getting notification emails",
        "enable email notifications",
    ]),
    "annual_billing": ("Settings > Billing > Billing period > Annual; you save "
                       "two months.", [
        "How do I switch to annual billing?",
        "change to yearly billing",
        "switch to annual billing",
        "can I pay yearly instead",
    ]),
    "monthly_billing": ("Settings > Billing > Billing period > Monthly; it "
                        "takes effect at the next renewal.", [
        "How do I switch to monthly billing?",
        "change to monthly billing",
        "switch to monthly billing",
        "can I pay monthly instead of yearly",
    ]),
    "trial_extend": ("We extend trials once by 14 days: reply with your "
                     "workspace name.", [
        "Can I extend my free trial?",
        "I need more time on the trial",
        "extend trial",
    ]),
    "trial_end": ("When the trial ends the workspace becomes read-only until "
                  "you pick a plan; nothing is deleted.", [
        "What happens when my trial ends?",
        "will I lose my data after the trial",
        "trial expired what now",
    ]),
    "storage_limit": ("Business plans include 100 GB; add storage in Settings "
                      "> Billing > Add-ons.", [
        "What is the storage limit?",
        "how much storage do I get",
        "I'm running out of storage space",
    ]),
    "upload_limit": ("Single files can be up to 2 GB.", [
        "What is the maximum file upload size?",
        "file too large to upload",
        "upload size limit",
    ]),
    "restore_project": ("Trash > Restore within 30 days of deleting.", [
        "How do I restore a deleted project?",
        "I deleted a project by accident, can I get it back",
        "recover deleted project",
    ]),
    "delete_project": ("Project > Settings > Delete; it stays in Trash for 30 "
                       "days.", [
        "How do I delete a project?",
        "delete project",
        "remove a project I don't need",
    ]),
    "outage": ("See our status page; we post updates every 30 minutes during "
               "an incident.", [
        "Is the service down?",
        "the app is not loading for anyone in my team",
        "are you having an outage",
        "site down?",
    ]),
    "contact_sales": ("Book a call with sales from the Pricing page.", [
        "How do I contact sales?",
        "I want to talk to someone about an enterprise plan",
        "contact sales",
    ]),
    "discount_nonprofit": ("Nonprofits get 50% off: send proof of status to "
                           "billing.", [
        "Do you offer a nonprofit discount?",
        "discount for charities",
        "nonprofit pricing",
    ]),
    "discount_student": ("Students get the Pro plan free with a university "
                         "email.", [
        "Do you offer a student discount?",
        "student pricing",
        "is it free for students",
    ]),
    "timezone": ("Profile > Preferences > Time zone.", [
        "How do I change my time zone?",
        "times are shown in the wrong timezone",
        "change timezone",
    ]),
    "language": ("Profile > Preferences > Language.", [
        "How do I change the language?",
        "switch the app to German",
        "change language",
    ]),
    "google_login": ("On the sign-in page choose 'Continue with Google'.", [
        "Can I log in with Google?",
        "sign in with google account",
        "login with Google",
    ]),
    "google_unlink": ("Profile > Connected accounts > Google > Disconnect; set "
                      "a password first.", [
        "How do I unlink my Google account?",
        "disconnect google login",
        "stop signing in with Google",
    ]),
}

# Requests whose right answer depends on a name and an amount: a look-alike
# differs only in one of them.
REFUND_TEMPLATES = [
    "Please refund ${amount} to {name}",
    "refund ${amount} to {name}'s account",
    "Can you issue a ${amount} refund to {name}?",
]
REFUNDS = [(50, "Anna"), (500, "Ana"), (50, "Ana"), (500, "Anna"),
           (15, "John"), (150, "Jon"), (20, "Maria"), (200, "Mario")]
TRANSFER_TEMPLATES = [
    "Transfer workspace ownership from {a} to {b}",
    "please move ownership of the workspace from {a} to {b}",
]
TRANSFERS = [("Tom", "Sara"), ("Sara", "Tom"), ("Liam", "Noah"), ("Noah", "Liam")]
SEAT_TEMPLATES = [
    "Change our seat count to {n}",
    "please set the number of seats to {n}",
]
SEATS = [10, 100, 15, 50]

OPENERS = ["", "", "", "", "Hi, ", "Hello! ", "Hey team, ", "Quick question: "]
CLOSERS = ["", "", "", "", " Thanks!", " thank you", " Thanks in advance.", " pls"]
INPUT_PRICE, OUTPUT_PRICE = 2.50 / 1e6, 10.0 / 1e6  # dollars per token
SYSTEM_TOKENS, EXTRA_OUTPUT_TOKENS = 650, 120


def catalogue() -> list[tuple[str, str, str, list[str]]]:
    """Every (intent, answer id, answer, phrasings), fixed and parametric."""
    out = [(name, name, answer, phrasings)
           for name, (answer, phrasings) in INTENTS.items()]
    for amount, name in REFUNDS:
        key = f"refund_{amount}_{name.lower()}"
        out.append(("refund_request", key,
                    f"Refund of ${amount} to {name} issued; it shows in 5-10 "
                    "business days.",
                    [t.format(amount=amount, name=name) for t in REFUND_TEMPLATES]))
    for a, b in TRANSFERS:
        key = f"transfer_{a.lower()}_{b.lower()}"
        out.append(("transfer_ownership", key,
                    f"Ownership moves from {a} to {b} once {b} accepts the "
                    "email we sent.",
                    [t.format(a=a, b=b) for t in TRANSFER_TEMPLATES]))
    for n in SEATS:
        out.append(("seat_count", f"seats_{n}",
                    f"Seat count set to {n}; the change is prorated.",
                    [t.format(n=n) for t in SEAT_TEMPLATES]))
    return out


def main() -> None:
    rng = random.Random(SEED)
    groups = catalogue()
    rng.shuffle(groups)
    # popularity falls off like 1/rank, as support queues tend to
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(groups))]
    clock = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    rows = []
    for seq in range(N_REQUESTS):
        intent, key, answer, phrasings = rng.choices(groups, weights)[0]
        text = rng.choice(OPENERS) + rng.choice(phrasings) + rng.choice(CLOSERS)
        clock += timedelta(seconds=rng.expovariate(1 / 90))
        rows.append({
            "id": f"s{seq:04d}", "arrived_at": clock.isoformat(), "input": text,
            "answer_id": key, "intent": intent, "reference": answer,
            "task_type": "support", "cost_usd": _cost(text, answer),
        })
    OUT.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"wrote {len(rows)} requests over {len(groups)} answers to {OUT}")


def _cost(text: str, answer: str) -> float:
    tokens_in = SYSTEM_TOKENS + len(text) // 4
    tokens_out = EXTRA_OUTPUT_TOKENS + len(answer) // 4
    return round(tokens_in * INPUT_PRICE + tokens_out * OUTPUT_PRICE, 6)


if __name__ == "__main__":
    main()
