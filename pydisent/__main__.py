from pydisent.cli import main

raise SystemExit(main())
