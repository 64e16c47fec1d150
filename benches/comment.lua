-- wrk script: POST comments, spread over the accounts and discussions that benches/comments.sh
-- writes above this text (`tokens`, `discussions`).
local n = 0
request = function()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  local discussion = discussions[(n % #discussions) + 1]
  return wrk.format("POST", "/api/v1/discussions/" .. discussion .. "/comments",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
    '{"body":"Benchmark comment ' .. n .. ', with **Markdown** and a [link](https://example.com)."}')
end
