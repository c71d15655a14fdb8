module tlsclose/stacks/go

go 1.19
