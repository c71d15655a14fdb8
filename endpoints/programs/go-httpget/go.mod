module tlsclose/httpget

go 1.19
