-- wrk script: POST a login for the account benches/auth.sh creates.
wrk.method = "POST"
wrk.body = '{"login":"bench","password":"bench-violet-harbour-42"}'
wrk.headers["Content-Type"] = "application/json"
