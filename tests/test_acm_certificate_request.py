"""booking.aws.acm_certificate_request against the emulator: request, no change, check, delete."""

from __future__ import annotations

MODULE = "booking.aws.acm_certificate_request"
TAGS = {"Project": "t", "Name": "t-alb"}


def _certs(aws, domain="api.example.com"):
    acm = aws("acm")
    summaries = acm.list_certificates()["CertificateSummaryList"]
    return [acm.describe_certificate(CertificateArn=s["CertificateArn"])["Certificate"]
            for s in summaries if s["DomainName"] == domain]


def _args(**overrides):
    return {"domain_name": "api.example.com", "subject_alternative_names": ["www.example.com"],
            "tags": TAGS, **overrides}


def test_check_mode_on_nothing_reports_a_change_and_requests_nothing(ansible, aws,
                                                                      fresh_emulator):
    result = ansible.module(MODULE, _args(), check=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["subject_alternative_names"] == ["api.example.com",
                                                                    "www.example.com"]
    assert result["certificate"] == {}
    assert _certs(aws) == []


def test_requests_once_with_dns_validation_records_then_reports_no_change(ansible, aws,
                                                                           fresh_emulator):
    first = ansible.module(MODULE, _args())
    assert first["changed"] is True, first
    [cert] = _certs(aws)
    assert cert["CertificateArn"] == first["certificate"]["certificate_arn"]
    assert cert["Type"] == "AMAZON_ISSUED"
    assert sorted(cert["SubjectAlternativeNames"]) == ["api.example.com", "www.example.com"]
    tags = aws("acm").list_tags_for_certificate(CertificateArn=cert["CertificateArn"])["Tags"]
    assert {"Key": "Name", "Value": "t-alb"} in tags
    records = {o["domain_name"]: o["resource_record"]
               for o in first["certificate"]["domain_validation_options"]}
    assert set(records) == {"api.example.com", "www.example.com"}
    assert all(r["type"] == "CNAME" for r in records.values())
    assert first["certificate"]["tags"] == TAGS

    second = ansible.module(MODULE, _args())
    assert second["changed"] is False, second
    assert second["certificate"]["certificate_arn"] == cert["CertificateArn"]
    checked = ansible.module(MODULE, _args(), check=True, diff=True)
    assert checked["changed"] is False
    assert checked["certificate"]["certificate_arn"] == cert["CertificateArn"]
    assert len(_certs(aws)) == 1


def test_other_tags_or_names_are_another_certificate(ansible, aws, fresh_emulator):
    first = ansible.module(MODULE, _args())
    staging = ansible.module(MODULE, _args(tags={"Project": "t", "Name": "t-staging-alb"}))
    assert staging["changed"] is True
    assert staging["certificate"]["certificate_arn"] != first["certificate"]["certificate_arn"]

    fewer = ansible.module(MODULE, _args(subject_alternative_names=[]), check=True, diff=True)
    assert fewer["changed"] is True
    assert first["certificate"]["certificate_arn"] in fewer["previous"]
    assert len(_certs(aws)) == 2, "check mode requested a certificate"
    updated = ansible.module(MODULE, _args(subject_alternative_names=[]))
    assert updated["changed"] is True
    assert updated["certificate"]["subject_alternative_names"] == ["api.example.com"]
    assert first["certificate"]["certificate_arn"] in updated["previous"]
    assert len(_certs(aws)) == 3, "the certificate in use was deleted"


def test_absent_deletes_and_then_reports_no_change(ansible, aws, fresh_emulator):
    ansible.module(MODULE, _args())
    other = ansible.module(MODULE, _args(tags={"Name": "someone-else"}))
    args = _args(state="absent")
    assert ansible.module(MODULE, args, check=True)["changed"] is True
    assert len(_certs(aws)) == 2
    assert ansible.module(MODULE, args)["changed"] is True
    assert [c["CertificateArn"] for c in _certs(aws)] == [other["certificate"]["certificate_arn"]]
    assert ansible.module(MODULE, args)["changed"] is False


def test_a_certificate_deleted_is_requested_anew(ansible, aws, fresh_emulator):
    # A teardown followed by site.yml within the hour ACM keeps an idempotency token.
    first = ansible.module(MODULE, _args())
    assert ansible.module(MODULE, _args(state="absent"))["changed"] is True
    again = ansible.module(MODULE, _args())
    assert again["changed"] is True, again
    assert again["certificate"]["certificate_arn"] != first["certificate"]["certificate_arn"]
    assert [c["CertificateArn"] for c in _certs(aws)] == [again["certificate"]["certificate_arn"]]
