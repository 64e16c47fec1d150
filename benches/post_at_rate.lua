-- wrk script: comments at a steady rate. Each connection posts one comment, then waits `pause`
-- milliseconds; one in five goes into the hot thread (`hot`, as a reply to one of its `roots`),
-- the others spread over `discussions`, each by one of the accounts of `tokens`. Those four
-- are written above this text by benches/setup.py. With C connections the rate is about
-- C * 1000 / (pause + latency) a second: benches/speed.sh reports the rate it got.
pause = 100
local n = 0
request = function()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  if n % 5 == 0 then
    local root = roots[(n % #roots) + 1]
    return wrk.format("POST", "/api/v1/discussions/" .. hot .. "/comments", headers,
      '{"body":"A reply in the hot thread, ' .. n .. '.","parent_id":' .. root .. '}')
  end
  local discussion = discussions[(n % #discussions) + 1]
  return wrk.format("POST", "/api/v1/discussions/" .. discussion .. "/comments", headers,
    '{"body":"Comment ' .. n .. ', with **Markdown** and a [link](https://example.com)."}')
end
delay = function()
  return pause
end
