"""Who the client is, for throttling: the socket peer, or, only behind a trusted proxy, the
right-most address of X-Forwarded-For that is not one of our proxies (SPEC §8)."""

from ipaddress import ip_network

import pytest

from core.config import Settings
from core.security import client_address, parse_address

PROXIES = (ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32"), ip_network("fd00::/8"))


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9"


def test_an_untrusted_peer_cannot_choose_its_address_by_forwarding_one() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1, 10.0.0.1"], PROXIES) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_client_is_used() -> None:
    assert client_address("10.1.2.3", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_the_right_most_untrusted_hop_wins_over_what_the_client_wrote_on_the_left() -> None:
    # The client sent "1.1.1.1" itself; our proxies appended its real address and each other's.
    headers = ["1.1.1.1, 198.51.100.1, 192.0.2.7"]
    assert client_address("10.0.0.2", headers, PROXIES) == "198.51.100.1"


def test_several_forwarded_headers_are_read_as_one_list_in_order() -> None:
    assert client_address("10.0.0.2", ["1.1.1.1", "198.51.100.1"], PROXIES) == "198.51.100.1"


def test_an_unreadable_hop_stops_the_walk_at_the_last_address_known() -> None:
    assert client_address("10.0.0.2", ["198.51.100.1, bogus"], PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", ["bogus, 192.0.2.7"], PROXIES) == "192.0.2.7"


def test_only_proxies_of_ours_in_the_chain_gives_the_left_most() -> None:
    assert client_address("10.0.0.2", ["10.0.0.3, 192.0.2.7"], PROXIES) == "10.0.0.3"
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_ipv6_and_ports_are_understood() -> None:
    assert client_address("fd00::1", ["[2001:db8::5]:4711"], PROXIES) == "2001:db8::5"
    assert client_address("fd00::1", ["198.51.100.1:4711"], PROXIES) == "198.51.100.1"
    assert client_address("::ffff:10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_a_peer_that_is_not_an_address_is_its_own_name() -> None:
    assert client_address("testclient", ["198.51.100.1"], PROXIES) == "testclient"
    assert client_address(None, ["198.51.100.1"], PROXIES) == "unknown"


@pytest.mark.parametrize(
    "text", ["", "bogus", "1.2.3", "1.2.3.4.5", "[::1", "[::1]:80x", "1.2.3.4:x"]
)
def test_malformed_addresses_parse_to_none(text: str) -> None:
    assert parse_address(text) is None


def test_trusted_proxies_setting_takes_addresses_and_networks() -> None:
    settings = Settings(trusted_proxies=" 10.0.0.0/8, 192.0.2.7 ,fd00::/8")
    assert settings.trusted_proxy_networks == PROXIES
    assert Settings().trusted_proxy_networks == ()


def test_a_malformed_trusted_proxy_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.internal")
