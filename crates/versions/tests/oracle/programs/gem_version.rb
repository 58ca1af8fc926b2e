# The RubyGems oracle: Gem::Version. "P\tv" answers ok/err (Gem::Version.correct?),
# "C\ta\tb" answers a <=> b (or err when either is malformed).
$stdin.set_encoding("UTF-8")
$stdout.sync = true
while (line = $stdin.gets)
  parts = line.chomp("\n").split("\t", -1)
  if parts[0] == "P"
    puts(Gem::Version.correct?(parts[1]) ? "ok" : "err")
  else
    begin
      puts((Gem::Version.new(parts[1]) <=> Gem::Version.new(parts[2])).to_s)
    rescue ArgumentError
      puts "err"
    end
  end
end
