"""The redaction rule set: every rule, and ordinary commands left alone."""
import pytest

from encoder.capture.redact import MARKER, RULES, redact

SECRET_CASES = [
    ("export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "export GITHUB_TOKEN=***", 1),
    ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "export AWS_SECRET_ACCESS_KEY=***", 1),
    ("DB_PASSWORD='hunter 2' ./run", "DB_PASSWORD=*** ./run", 1),
    ("export SLACK_API_KEY=\"x y\"", "export SLACK_API_KEY=***", 1),
    ("aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws configure set aws_access_key_id ***", 1),
    ("git clone https://github_pat_11ABCDEFG0123456789_abcdefghijklmnop@github.com/a/b",
     "git clone https://***@github.com/a/b", 1),
    ("echo xoxb-1234567890-abcdefghij", "echo ***", 1),
    ("echo eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "echo ***", 1),
    ("curl -H 'Authorization: Bearer abc.def.ghi' https://u:p@example.com",
     "curl -H 'Authorization: ***' https://u:***@example.com", 2),
    ("curl -H \"Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123456789\" x", "curl -H \"Authorization: ***\" x", 1),
    ("http GET api.example.com 'Authorization:Basic dXNlcjpwYXNz'", "http GET api.example.com 'Authorization:***'", 1),
    ("wget --header 'X: 1' --user=bob https://bob:s3cr3t@example.com/f", "wget --header 'X: 1' --user=bob "
     "https://bob:***@example.com/f", 1),
    ("psql postgres://app:pa55@db:5432/shop", "psql postgres://app:***@db:5432/shop", 1),
    ("mysql -u root -phunter2 shop", "mysql -u root -p*** shop", 1),
    ("mysqldump -uroot -p'a b' db > x.sql", "mysqldump -uroot -p*** db > x.sql", 1),
    ("tool --password=hunter2 --verbose", "tool --password=*** --verbose", 1),
    ("tool --password hunter2 --verbose", "tool --password *** --verbose", 1),
    ("gh auth login --with-token --token abcdef", "gh auth login --with-token --token ***", 1),
    ("docker login -p s3cret registry.example.com", "docker login -p *** registry.example.com", 1),
    ("sshpass -p pw ssh host", "sshpass -p *** ssh host", 1),
    ("curl 'https://api.example.com/v1?api_key=abc123&q=cats'", "curl 'https://api.example.com/v1?api_key=***&q=cats'", 1),
    ("./deploy token=abcdef secret=xyz", "./deploy token=*** secret=***", 2),
    ("run --client-secret=s3", "run --client-secret=***", 1),
    ("echo sk-abcdefghijklmnopqrstuvwxyz012345", "echo ***", 1),
    ("set -x HASH=0123456789abcdef0123456789abcdef", "set -x HASH=***", 1),
]

ORDINARY = [
    "ls -la", "git log --oneline -5", "git show 3f786850e387550fdab836ed7e6dc881de23001b", "ls -p /tmp",
    "ps -p 42", "cd $PWD", "echo $HOME", "export PATH=$PATH:/opt/bin", "ssh-keygen -t ed25519",
    "grep -rn password src/", "python -m pytest -x tests/", "export KEYTIMEOUT=1",
    "git config user.email a@b.c", "sudo apt-get install -y pass", "make -j8 CFLAGS=-O2", "tar xzf a.tgz",
    "export GPG_TTY=$(tty)", "mysql -u root -p shop", "openssl rand -hex 32", "docker run -p 8080:80 nginx",
    "ssh bob@example.com", "scp a.txt bob@host:/tmp/", "git push origin main", "kubectl get secrets",
    "vim ~/.ssh/config", "curl https://example.com/path?q=1", "pass show email", "echo 'Bearer of bad news'",
    "find . -name '*.key'", "export EDITOR=vim", "history | grep token", "pip install keyring",
    "git commit -m 'rotate the API key'", "cat id_rsa.pub", "sha256sum file", "echo ${#TOKEN}",
]


@pytest.mark.parametrize("text,want,count", SECRET_CASES)
def test_secrets_are_replaced_and_the_rest_kept(text, want, count):
    assert redact(text) == (want, count)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_commands_are_left_alone(text):
    assert redact(text) == (text, 0)


def test_redaction_is_idempotent_and_counts_only_what_it_removed():
    for text, want, _ in SECRET_CASES:
        assert redact(want) == (want, 0)
    assert redact(None) == (None, 0) and redact("") == ("", 0)


def test_a_private_key_block_is_removed():
    text = "echo '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----' > k"
    assert redact(text) == ("echo '***' > k", 1)


def test_every_rule_is_named_and_replaces_with_the_marker():
    assert MARKER == "***"
    names = {name for name, _, _ in RULES}
    assert names == {"url", "header", "assignment", "option", "key=value", "token", "long secret"}
