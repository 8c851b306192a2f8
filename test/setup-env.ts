// Ink decides at import time whether it runs in CI (then it draws only at exit); the UI tests render
// to fake terminals and need it to draw as on a real one, also when the suite itself runs in CI.
delete process.env.CI;
