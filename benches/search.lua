-- wrk script for benches/search.sh: two-word searches over the seeded vocabulary, in the
-- forms readers would type (other word forms than the text's: stems must meet), common pairs
-- and rare ones, English and Russian (wrk reports any answer but 2xx as Non-2xx).
local queries = {
  "new tank", "naval defences", "tanks NATO", "meeting Ramstein", "armoured vehicle",
  "patrol Baltic", "Latvia warns", "Pentagon doubles", "Finland tanks", "Israel meeting",
  "новые танки", "патрулирование неба", "встреча Рамштайн", "выпуск бронетехники",
  "НАТО танков", "Армения обсуждает", "Финляндии готовится", "деэскалация границы",
  "Израиль встречи", "Скандинавия закупки",
}
local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths = {}
for i, q in ipairs(queries) do paths[i] = "/api/v1/search?q=" .. encode(q .. " ") end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
