/*
 * brk_approvals.h - a person in the loop of a call: MFA step-ups and
 * approvals by another person, bound to the exact request.
 *
 * When the policy allows a call but requires something of a person
 * (policy/pol_eval.h: struct pol_requirements), the gate asks
 * brk_approvals_gate(). What is already met passes at once: a per_session
 * step-up younger than the role's mfa_window, an approval granted for a
 * window to the same request (same canonical hash, same role generation).
 * Anything else holds the call: a pending request is stored (store.h,
 * "approvals") and audited (approval.requested), and the caller is told
 * where to answer:
 *   - a client that declared elicitation.url gets elicitation/create in URL
 *     mode with the call's page in the web console,
 *     https://BROKER/#/approvals/<id> (never a form asking for a code: MCP
 *     forbids sensitive data there), and
 *     notifications/elicitation/complete once the request is answered;
 *   - every client gets notifications/message with the page and the
 *     command `ztctl approve <id>`, and progress while it waits (when the
 *     request carried a progressToken);
 *   - a stateless client (MCP 2026-07-28) that takes URL elicitation is
 *     answered at once with input_required: the page, and the request's id
 *     in the sealed requestState. Its retry comes back for that request
 *     (the same caller and canonical request, still open) and waits for
 *     the answer as a 2025 call does after its page; a declined page
 *     withdraws the request.
 * The call then waits until the request is approved (it runs, and the
 * approval is used up), denied (a tool error naming who and why), expired
 * (fails closed: a tool error that says so) or cancelled by the client
 * (the request is withdrawn). A role change while it waits (another role
 * generation, or other roles for the caller) voids it: nothing runs.
 *
 * Answers come through the /v1/approvals API (ztctl approvals, approve,
 * deny; the web console's Approvals view): the caller steps up for their own
 * call with a fresh one-time code; only a holder of an approval.by role,
 * never the caller, approves (also with a fresh code), optionally as a
 * grant for a window of at most the role's approval.ttl. Each answer is
 * audited: mfa.stepup, approval.approved, approval.denied; and the end of
 * each request: approval.expired, approval.withdrawn.
 */
#ifndef ZT_BRK_APPROVALS_H
#define ZT_BRK_APPROVALS_H

#include <cjson/cJSON.h>

struct brk;
struct brk_call;
struct brk_identity;
struct brk_req;
struct brk_resp;

/* Polling interval of a held call, and how often it reports progress. */
#define BRK_APPROVAL_POLL_MS 250
#define BRK_APPROVAL_PROGRESS_MS 5000
/* How long a request for a step-up alone waits (an approval's wait is the
 * role's approval.ttl). */
#define BRK_STEPUP_TTL_S 600

/* Whether c (allowed by c->dec, decided at c->generation) may run now:
 * 0 (every requirement met; c->released says how, for the audit), or
 * ZT_ERR_DENIED with *result the answer instead of running: a tool error
 * (denied, expired, voided; each audited) or the question of a front that
 * asks in rounds (input_required; the request stays pending),
 * ZT_ERR_CANCELLED (withdrawn by the client; no result), or another
 * error. */
int brk_approvals_gate(struct brk_call *c, cJSON **result);

/* The history (GET /v1/approvals?state=history): the requests of the last
 * BRK_APPROVAL_HISTORY_S that are no longer pending, newest first, at most
 * BRK_APPROVAL_HISTORY_MAX of those who may see (the caller's own, and
 * those a role who holds answers), among the newest
 * STORE_APPROVAL_LIST_MAX of all. */
#define BRK_APPROVAL_HISTORY_S (24 * 60 * 60)
#define BRK_APPROVAL_HISTORY_MAX 100

/* The /v1 handlers (ROUTE_AUTH):
 *   GET  /v1/approvals          the pending requests who may answer;
 *                               ?state=history: how those who may see
 *                               ended
 *   POST /v1/approvals/approve  {id, otp, for?}: a step-up for one's own
 *                               call, or an approval of another's
 *   POST /v1/approvals/deny     {id, reason?}: by an approver, or the
 *                               caller withdrawing their own */
void brk_approvals_ls(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, struct brk_resp *resp);
void brk_approvals_approve(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp);
void brk_approvals_deny(struct brk *b, const struct brk_req *req,
    const struct brk_identity *who, const cJSON *body, struct brk_resp *resp);

#endif
