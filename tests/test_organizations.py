"""Issue 8, items 2, 16 and 19: who may put a paper under an organization (Hugging Face's rule),
invitations that must be accepted, an organization that always keeps an admin, bans on every write,
and the admin's ban form. Through the real HTTP stack."""

import re
import threading
import time

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client

from dailypapers.api.models import ApiToken
from dailypapers.community import services
from dailypapers.community.models import Ban, Invitation, Membership
from dailypapers.digests.models import Subscription
from dailypapers.papers.models import Organization, Paper

from .helpers import client_for, make_user

pytestmark = pytest.mark.django_db
PAPER = "2611.00001"


def org_of(arxiv_id: str = PAPER) -> str | None:
    org = Paper.objects.select_related("organization").get(arxiv_id=arxiv_id).organization
    return org.slug if org else None


def make_org(slug: str, *, admin, members=()) -> Organization:
    org = services.create_organization(user=admin, name=slug.title(), slug=slug)
    for member in members:
        Membership.objects.create(organization=org, user=member)
    return org


def set_org(user, slug: str, arxiv_id: str = PAPER):
    return client_for(user).post(f"/papers/{arxiv_id}/organization", {"organization": slug})


@pytest.fixture
def real_org(fresh_papers):
    """The paper's real organization: its submitter is a member and put the paper under it."""
    submitter, real_admin = make_user("submitter"), make_user("realadmin")
    make_org("real-lab", admin=real_admin, members=[submitter])
    services.submit_paper(user=submitter, raw_id=PAPER)
    services.set_paper_organization(user=submitter, paper=Paper.objects.get(arxiv_id=PAPER),
                                    organization=Organization.objects.get(slug="real-lab"))
    return {"submitter": submitter, "real_admin": real_admin}


# --- item 2: the hijack, and who may set a paper's organization --------------------------------------

def test_an_unverified_user_can_neither_create_an_organization_nor_set_one(real_org):
    unverified = make_user("fresh", verified=False)
    response = client_for(unverified).post("/organizations/new", {"name": "Evil", "slug": "evil"})
    assert response.status_code == 400 and "Verify your email" in response.content.decode()
    assert not Organization.objects.filter(slug="evil").exists()
    response = set_org(unverified, "")
    assert response.status_code == 403 and "Verify your email" in response.content.decode()
    assert org_of() == "real-lab"


def test_the_hijack_is_refused_and_the_real_organization_keeps_its_paper(real_org):
    mallory = make_user("mallory")
    assert client_for(mallory).post("/organizations/new", {"name": "Evil", "slug": "evil"}).status_code == 302
    assert Membership.objects.get(user=mallory).role == "admin"
    response = set_org(mallory, "evil")
    assert response.status_code == 403 and "submitter" in response.content.decode()
    assert set_org(mallory, "").status_code == 403  # nor take the paper out of its organization
    assert org_of() == "real-lab"


def test_the_submitter_sets_only_an_organization_they_are_a_member_of(real_org):
    submitter, other_admin = real_org["submitter"], make_user("other")
    make_org("other-lab", admin=other_admin)
    response = set_org(submitter, "other-lab")
    assert response.status_code == 403 and "not a member of Other-Lab" in response.content.decode()
    assert org_of() == "real-lab"
    make_org("own-lab", admin=submitter)
    assert set_org(submitter, "own-lab").status_code == 302 and org_of() == "own-lab"
    assert set_org(submitter, "").status_code == 302 and org_of() is None


def test_an_approved_author_who_is_a_member_sets_it_a_pending_claim_does_not(fresh_papers):
    ada = make_user("ada")
    make_org("ada-lab", admin=ada)
    paper = Paper.objects.get(arxiv_id=PAPER)
    claim = services.claim_authorship(user=ada, authorship=paper.authorships.get(author__name="Ada Lovelace"))
    assert set_org(ada, "ada-lab").status_code == 403 and org_of() is None
    services.decide_claim(claim=claim, moderator=make_user("mod", staff=True), approve=True)
    assert set_org(ada, "ada-lab").status_code == 302 and org_of() == "ada-lab"


def test_staff_set_any_organization(real_org):
    make_org("other-lab", admin=make_user("other"))
    assert set_org(make_user("mod", staff=True), "other-lab").status_code == 302 and org_of() == "other-lab"


def test_an_admin_of_the_current_organization_only_removes_it(real_org):
    real_admin = real_org["real_admin"]
    assert set_org(real_admin, "real-lab", arxiv_id="2611.00002").status_code == 403  # not theirs to claim
    assert org_of("2611.00002") is None
    assert set_org(real_admin, "").status_code == 302 and org_of() is None
    assert set_org(real_admin, "real-lab").status_code == 403 and org_of() is None  # nor put it back


def test_a_banned_submitter_cannot_set_it(real_org):
    Ban.objects.create(user=real_org["submitter"], reason="spam")
    assert set_org(real_org["submitter"], "").status_code == 403 and org_of() == "real-lab"


@pytest.mark.parametrize(("slug", "reason"), [
    ("a\x00b", "contains a control character"),  # refused for the whole site by dailypapers.security
    ("foo.bar", "letters, digits, dashes"),
    ("x" * 101, "letters, digits, dashes"),
])
def test_a_malformed_organization_slug_is_a_400_with_its_reason(real_org, slug, reason):
    response = set_org(real_org["submitter"], slug)
    assert response.status_code == 400 and reason in response.content.decode()
    assert org_of() == "real-lab"


def test_setting_and_creating_organizations_are_rate_limited(real_org, settings):
    settings.RATE_ORGANIZATION = "2/m"
    client = client_for(real_org["submitter"])
    codes = [client.post(f"/papers/{PAPER}/organization", {"organization": slug}).status_code
             for slug in ("", "real-lab", "")]
    assert codes == [302, 302, 429]
    assert org_of() == "real-lab"
    codes = [client.post("/organizations/new", {"name": f"Lab {i}", "slug": f"lab-{i}"}).status_code for i in range(3)]
    assert codes == [302, 302, 429]
    assert not Organization.objects.filter(slug="lab-2").exists()


def test_every_change_is_in_the_papers_admin_history(real_org):
    paper = Paper.objects.get(arxiv_id=PAPER)
    real_admin = real_org["real_admin"]
    assert set_org(real_admin, "").status_code == 302
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Paper), object_id=str(paper.pk))
    assert [(e.user.username, e.action_flag, e.change_message) for e in entries.order_by("action_time", "pk")] == [
        ("submitter", CHANGE, "Organization changed on the site from none to “Real-Lab” (real-lab)"),
        ("realadmin", CHANGE, "Organization changed on the site from “Real-Lab” (real-lab) to none"),
    ]
    history = client_for(make_user("mod", staff=True)).get(f"/admin/papers/paper/{paper.pk}/history/")
    assert history.status_code == 200 and "from “Real-Lab” (real-lab) to none" in history.content.decode()


def _control(html: str) -> str:
    """The organization control of a paper page ('' when there is none)."""
    found = re.search(r'<details class="set-org">.*?</details>', html, re.S)
    return found[0] if found else ""


def test_the_control_is_shown_only_to_who_may_use_it(real_org):
    page = f"/papers/{PAPER}"
    submitter, real_admin = real_org["submitter"], real_org["real_admin"]
    make_org("mallory-lab", admin=(mallory := make_user("mallory")))
    for outsider in (Client(), client_for(mallory), client_for(make_user("unverified", verified=False))):
        html = outsider.get(page).content.decode()
        assert html.count(f'action="/papers/{PAPER}/organization"') == 0 and not _control(html)

    control = _control(client_for(submitter).get(page).content.decode())
    assert '<select name="organization"' in control and '<option value="real-lab" selected>' in control
    assert "mallory-lab" not in control and "Remove Real-Lab" in control

    control = _control(client_for(real_admin).get(page).content.decode())
    assert "Remove Real-Lab" in control and '<select name="organization"' not in control

    control = _control(client_for(make_user("mod", staff=True)).get(page).content.decode())
    assert 'name="organization" placeholder="organization slug"' in control


# --- item 16: invitations, the last admin, bans ---------------------------------------------------

@pytest.fixture
def lab(db):
    boss = make_user("boss")
    return make_org("lab", admin=boss), boss


def test_an_invited_user_is_no_member_until_they_accept(lab, fresh_papers):
    org, boss = lab
    bob = make_user("bob")
    assert client_for(boss).post("/organizations/lab/members", {"username": "bob", "role": "admin"}).status_code == 302
    assert not Membership.objects.filter(user=bob).exists()
    # No rights before accepting: bob cannot invite, and cannot put his submission under the lab.
    assert (
        client_for(bob).post("/organizations/lab/members", {"username": "carol", "role": "member"}).status_code == 403
    )
    services.submit_paper(user=bob, raw_id=PAPER)
    assert set_org(bob, "lab").status_code == 403

    invitation = Invitation.objects.get(user=bob)
    listing = client_for(bob).get("/settings/invitations").content.decode()
    assert "Lab" in listing and f"/settings/invitations/{invitation.pk}/accept" in listing
    assert f"/settings/invitations/{invitation.pk}/accept" in client_for(bob).get("/organizations/lab").content.decode()
    assert 'href="/settings/invitations"' in client_for(bob).get("/users/bob").content.decode()
    # Nobody else answers bob's invitation.
    assert client_for(boss).post(f"/settings/invitations/{invitation.pk}/accept").status_code == 404

    assert client_for(bob).post(f"/settings/invitations/{invitation.pk}/accept").status_code == 302
    assert Membership.objects.get(user=bob, organization=org).role == "admin"
    assert not Invitation.objects.exists()
    assert set_org(bob, "lab").status_code == 302 and org_of() == "lab"


def test_the_superuser_is_not_added_without_consent_and_a_declined_invitation_is_gone(lab):
    org, boss = lab
    root = make_user("root", staff=True)
    assert client_for(boss).post("/organizations/lab/members", {"username": "root", "role": "admin"}).status_code == 302
    assert not Membership.objects.filter(user=root).exists()
    invitation = Invitation.objects.get(user=root)
    assert client_for(root).post(f"/settings/invitations/{invitation.pk}/decline").status_code == 302
    assert not Invitation.objects.exists() and not Membership.objects.filter(user=root).exists()


def test_inviting_a_member_again_is_explained(lab):
    org, boss = lab
    response = client_for(boss).post("/organizations/lab/members", {"username": "boss", "role": "member"})
    assert response.status_code == 403 and "is a member already" in response.content.decode()
    assert not Invitation.objects.exists()


def test_the_last_admin_cannot_demote_remove_or_leave(lab):
    org, boss = lab
    own = Membership.objects.get(user=boss)
    client = client_for(boss)
    for url, data in ((f"/organizations/lab/members/{own.pk}/role", {"role": "member"}),
                      (f"/organizations/lab/members/{own.pk}/remove", {})):
        response = client.post(url, data)
        assert response.status_code == 403 and "always keeps an admin" in response.content.decode()
    staff = client_for(make_user("mod", staff=True))
    assert staff.post(f"/organizations/lab/members/{own.pk}/remove").status_code == 403
    assert Membership.objects.get(pk=own.pk).role == "admin"

    other = Membership.objects.create(organization=org, user=make_user("second"))
    assert client.post(f"/organizations/lab/members/{other.pk}/role", {"role": "admin"}).status_code == 302
    assert client.post(f"/organizations/lab/members/{own.pk}/role", {"role": "member"}).status_code == 302
    assert client.post(f"/organizations/lab/members/{own.pk}/remove").status_code == 302  # leaves
    assert list(Membership.objects.values_list("user__username", "role")) == [("second", "admin")]


def test_members_leave_admins_remove_and_nobody_else_does(lab):
    org, boss = lab
    carol = Membership.objects.create(organization=org, user=make_user("carol"))
    dave = Membership.objects.create(organization=org, user=make_user("dave"))
    assert client_for(carol.user).post(f"/organizations/lab/members/{dave.pk}/remove").status_code == 403
    assert (
        client_for(carol.user).post(f"/organizations/lab/members/{dave.pk}/role", {"role": "admin"}).status_code == 403
    )
    html = client_for(carol.user).get("/organizations/lab").content.decode()
    assert f"/organizations/lab/members/{carol.pk}/remove" in html  # her "Leave" button
    assert f"/organizations/lab/members/{dave.pk}/remove" not in html
    assert client_for(carol.user).post(f"/organizations/lab/members/{carol.pk}/remove").status_code == 302
    assert client_for(boss).post(f"/organizations/lab/members/{dave.pk}/remove").status_code == 302
    assert list(Membership.objects.values_list("user__username", flat=True)) == ["boss"]


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(monkeypatch):
    lock_and_count = services._lock_admins

    def slowly(organization):  # widen the race: both would have counted two admins before either writes
        admins = lock_and_count(organization)
        time.sleep(0.3)
        return admins

    monkeypatch.setattr(services, "_lock_admins", slowly)
    first, second = make_user("first"), make_user("second")
    org = make_org("lab", admin=first)
    Membership.objects.create(organization=org, user=second, role="admin")
    memberships = {m.user_id: m for m in Membership.objects.all()}
    start, outcomes = threading.Barrier(2), []

    def demote(actor, target):
        start.wait()
        try:
            services.change_member_role(actor=actor, membership=memberships[target.pk], role="member")
            outcomes.append("demoted")
        except services.Refused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "refused"]
    assert Membership.objects.filter(organization=org, role="admin").count() == 1


def test_a_banned_user_cannot_create_tokens_subscribe_or_invite(lab):
    org, boss = lab
    make_user("bob")
    Ban.objects.create(user=boss, reason="spam")
    client = client_for(boss)
    response = client.post("/settings/tokens", {"name": "my script"})
    assert response.status_code == 400 and "banned" in response.content.decode()
    assert not ApiToken.objects.exists()
    response = client.post("/digest/subscribe", {"email": "boss@example.org", "frequency": "daily"})
    assert response.status_code == 403 and "banned" in response.content.decode()
    assert not Subscription.objects.exists()
    response = client.post("/organizations/lab/members", {"username": "bob", "role": "member"})
    assert response.status_code == 403 and "banned" in response.content.decode()
    assert not Invitation.objects.exists()


# --- item 19: the admin's ban form ----------------------------------------------------------------

def test_the_admin_ban_form_fills_banned_by_with_the_moderator():
    root, troll = make_user("root", staff=True), make_user("troll")
    client = client_for(root)
    assert "banned_by" not in re.findall(r'name="([^"]+)"', client.get("/admin/community/ban/add/").content.decode())
    response = client.post("/admin/community/ban/add/", {"user": troll.pk, "reason": "spam"})
    assert response.status_code == 302
    assert Ban.objects.get(user=troll).banned_by == root
