-- wrk script: POST comments, spread over the accounts and targets that benches/notifications.sh
-- writes above this text: `tokens` (access tokens), `targets` ({discussion, parent} pairs;
-- parent 0: a root comment) and `pick` (which target the n-th request of token i uses).
local n = 0
request = function()
  n = n + 1
  local i = n % #tokens
  local target = targets[pick(n, i, #targets) + 1]
  local parent = ""
  if target[2] ~= 0 then parent = ',"parent_id":' .. target[2] end
  return wrk.format("POST", "/api/v1/discussions/" .. target[1] .. "/comments",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[i + 1] },
    '{"body":"Benchmark reply ' .. n .. ', with **Markdown**."' .. parent .. '}')
end
